//! Read models built from the event log. Each projection version has its own table and its own
//! checkpoint; the daemon keeps them current, exactly once, across restarts and nodes.

mod board;
pub mod catalog;
mod daemon;
mod daily;
pub mod db;
pub mod queries;

pub use board::BoardRow;
pub use daemon::{Daemon, DaemonHandle, DEFAULT_BATCH_SIZE};
pub use daily::DayCounts;

use crate::store::RecordedEvent;
use db::Tx;

/// A registered projection version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Definition {
    ShipmentBoardV1,
    ShipmentBoardV2,
    DailyShipmentsV1,
}

impl Definition {
    pub const ALL: [Definition; 3] = [
        Definition::ShipmentBoardV1,
        Definition::ShipmentBoardV2,
        Definition::DailyShipmentsV1,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Definition::ShipmentBoardV1 | Definition::ShipmentBoardV2 => "shipment_board",
            Definition::DailyShipmentsV1 => "daily_shipments",
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

    pub fn handles(&self) -> &'static [&'static str] {
        match self {
            Definition::ShipmentBoardV1 | Definition::ShipmentBoardV2 => board::EVENTS,
            Definition::DailyShipmentsV1 => daily::EVENTS,
        }
    }

    /// The table a fresh (re)build of this version writes to.
    pub fn base_table(&self) -> String {
        format!("{}_v{}", self.name(), self.version())
    }

    /// The statements that create a table (and its indexes) for this version.
    pub fn create_table_sql(&self, table: &str) -> Vec<String> {
        let table = db::checked_table_name(table);
        match self {
            Definition::ShipmentBoardV1 => board::create_table_sql(table, false),
            Definition::ShipmentBoardV2 => board::create_table_sql(table, true),
            Definition::DailyShipmentsV1 => daily::create_table_sql(table),
        }
    }

    /// Applies a batch of events to `table` inside the caller's transaction.
    pub async fn apply(
        &self,
        tx: &mut Tx,
        table: &str,
        events: &[RecordedEvent],
    ) -> Result<(), ApplyError> {
        let table = db::checked_table_name(table);
        match self {
            Definition::ShipmentBoardV1 => board::apply(tx, table, false, events).await,
            Definition::ShipmentBoardV2 => board::apply(tx, table, true, events).await,
            Definition::DailyShipmentsV1 => daily::apply(tx, table, events).await,
        }
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

/// Why a batch could not be applied. An event error names the event, so an operator can see
/// which one stopped the projection.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("event #{seq} ({event_type} on stream {stream_id}): {message}")]
    Event {
        seq: i64,
        stream_id: String,
        event_type: String,
        message: String,
    },
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl ApplyError {
    pub fn event(recorded: &RecordedEvent, message: String) -> Self {
        ApplyError::Event {
            seq: recorded.position.seq,
            stream_id: recorded.stream_id.to_string(),
            event_type: recorded.event_type.clone(),
            message,
        }
    }
}

/// True for errors that say the database is briefly unable to do the work (restarting,
/// deadlock, lock timeout, connection lost), as opposed to the projection being wrong for an event.
pub fn is_transient(flavor: db::Flavor, error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => {
            let code = e.code().unwrap_or_default();
            match flavor {
                // Classes 08 connection, 40 rollback (deadlock, serialization), 53 resources,
                // 57 operator intervention (e.g. shutdown), 58 system error; 55P03 lock timeout.
                db::Flavor::Postgres => ["08", "40", "53", "57", "58", "55P03"]
                    .iter()
                    .any(|class| code.starts_with(class)),
                // SQLITE_BUSY and SQLITE_LOCKED, including their extended codes.
                db::Flavor::Sqlite => code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6)),
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
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
}
