//! The registered projection versions and what each one is: pure, shared with the browser.

use crate::domain::{event_types, ShipmentEvent};
use serde::{Deserialize, Serialize};

/// A registered projection version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Definition {
    ShipmentBoardV1,
    ShipmentBoardV2,
    DailyShipmentsV1,
}

pub const SHIPMENT_BOARD: &str = "shipment_board";
pub const DAILY_SHIPMENTS: &str = "daily_shipments";

impl Definition {
    pub const ALL: [Definition; 3] = [
        Definition::ShipmentBoardV1,
        Definition::ShipmentBoardV2,
        Definition::DailyShipmentsV1,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Definition::ShipmentBoardV1 | Definition::ShipmentBoardV2 => SHIPMENT_BOARD,
            Definition::DailyShipmentsV1 => DAILY_SHIPMENTS,
        }
    }

    pub fn version(&self) -> i64 {
        match self {
            Definition::ShipmentBoardV1 | Definition::DailyShipmentsV1 => 1,
            Definition::ShipmentBoardV2 => 2,
        }
    }

    /// `name@version`, as in configuration and the CLI.
    pub fn key(&self) -> String {
        format!("{}@{}", self.name(), self.version())
    }

    pub fn parse(key: &str) -> Option<Definition> {
        Self::ALL.into_iter().find(|d| d.key() == key.trim())
    }

    pub fn find(name: &str, version: i64) -> Option<Definition> {
        Self::ALL
            .into_iter()
            .find(|d| d.name() == name && d.version() == version)
    }

    pub fn description(&self) -> &'static str {
        match self {
            Definition::ShipmentBoardV1 => "Dispatch board: status, places, times",
            Definition::ShipmentBoardV2 => {
                "Dispatch board plus last known location, location count, time in transit"
            }
            Definition::DailyShipmentsV1 => {
                "Per UTC day: scheduled, picked up, delivered, cancelled"
            }
        }
    }

    /// Whether its rows carry the last known location and the time in transit.
    pub fn tracks_locations(&self) -> bool {
        matches!(self, Definition::ShipmentBoardV2)
    }

    /// Whether `event_type` changes this version's table. Every board version follows every
    /// shipment event (a location report still moves the row to the stream's new version).
    pub fn handles(&self, event_type: &str) -> bool {
        match self {
            Definition::ShipmentBoardV1 | Definition::ShipmentBoardV2 => {
                ShipmentEvent::TYPES.contains(&event_type)
            }
            Definition::DailyShipmentsV1 => {
                ShipmentEvent::TYPES.contains(&event_type)
                    && event_type != event_types::LOCATION_RECORDED
            }
        }
    }

    /// The table a first build of this version writes to.
    pub fn base_table(&self) -> String {
        format!("{}_v{}", self.name(), self.version())
    }
}

/// Which versions a node may run: `shipment_board@1,daily_shipments@1`, or all of them.
pub fn parse_capabilities(config: Option<&str>) -> Result<Vec<Definition>, String> {
    let Some(config) = config.filter(|c| !c.trim().is_empty()) else {
        return Ok(Definition::ALL.to_vec());
    };
    let mut defs = Vec::new();
    for key in config.split(',').filter(|k| !k.trim().is_empty()) {
        let def = Definition::parse(key).ok_or_else(|| {
            let known: Vec<String> = Definition::ALL.iter().map(Definition::key).collect();
            format!(
                "unknown projection version {key:?} (known: {})",
                known.join(", ")
            )
        })?;
        if !defs.contains(&def) {
            defs.push(def);
        }
    }
    Ok(defs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_parse_and_default_to_everything() {
        assert_eq!(parse_capabilities(None).unwrap(), Definition::ALL.to_vec());
        assert_eq!(
            parse_capabilities(Some("shipment_board@1, daily_shipments@1")).unwrap(),
            vec![Definition::ShipmentBoardV1, Definition::DailyShipmentsV1]
        );
        assert!(parse_capabilities(Some("shipment_board@9"))
            .unwrap_err()
            .contains("known: shipment_board@1"));
    }

    #[test]
    fn daily_counts_ignore_locations() {
        assert!(Definition::ShipmentBoardV1.handles("LocationRecorded"));
        assert!(!Definition::DailyShipmentsV1.handles("LocationRecorded"));
        assert!(Definition::DailyShipmentsV1.handles("ShipmentDelivered"));
        assert!(!Definition::ShipmentBoardV2.handles("SomethingElse"));
    }
}
