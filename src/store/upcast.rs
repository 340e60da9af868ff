//! Upcasting: stored events are never rewritten; old JSON is upgraded on read, one schema
//! version at a time, by the upcasters registered here.

use crate::domain::ShipmentEvent;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpcastError {
    #[error("{event_type} schema version {from} has no upcaster")]
    Missing { event_type: String, from: i32 },
    #[error("{event_type} schema version {from} is newer than this build knows ({current})")]
    FromTheFuture {
        event_type: String,
        from: i32,
        current: i32,
    },
    #[error("{event_type} v{from} data cannot be upcast: {message}")]
    Malformed {
        event_type: String,
        from: i32,
        message: String,
    },
}

struct Upcaster {
    event_type: &'static str,
    from_version: i32,
    upcast: fn(Value) -> Result<Value, String>,
}

const UPCASTERS: &[Upcaster] = &[Upcaster {
    event_type: crate::domain::event_types::LOCATION_RECORDED,
    from_version: 1,
    upcast: location_recorded_v1_to_v2,
}];

/// LocationRecorded v1 was `{place, recorded_at}`; v2 names it `location` and adds optional
/// coordinates and notes.
fn location_recorded_v1_to_v2(data: Value) -> Result<Value, String> {
    let place = data
        .get("place")
        .and_then(Value::as_str)
        .ok_or("missing `place`")?;
    let recorded_at = data.get("recorded_at").ok_or("missing `recorded_at`")?;
    Ok(json!({
        "location": place,
        "lat": null,
        "lon": null,
        "recorded_at": recorded_at,
        "notes": null,
    }))
}

/// Brings `data` stored at `schema_version` up to the current schema of `event_type`.
pub fn upcast_to_current(
    event_type: &str,
    schema_version: i32,
    mut data: Value,
) -> Result<(i32, Value), UpcastError> {
    let current = ShipmentEvent::current_schema_version(event_type);
    if schema_version > current {
        return Err(UpcastError::FromTheFuture {
            event_type: event_type.to_string(),
            from: schema_version,
            current,
        });
    }
    let mut version = schema_version;
    while version < current {
        let upcaster = UPCASTERS
            .iter()
            .find(|u| u.event_type == event_type && u.from_version == version)
            .ok_or_else(|| UpcastError::Missing {
                event_type: event_type.to_string(),
                from: version,
            })?;
        data = (upcaster.upcast)(data).map_err(|message| UpcastError::Malformed {
            event_type: event_type.to_string(),
            from: version,
            message,
        })?;
        version += 1;
    }
    Ok((version, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_v1_reads_as_v2() {
        let v1 = json!({"place": "Basel", "recorded_at": "2026-11-28T10:00:00Z"});
        let (version, data) = upcast_to_current("LocationRecorded", 1, v1).unwrap();
        assert_eq!(version, 2);
        let event = ShipmentEvent::from_json("LocationRecorded", &data).unwrap();
        match event {
            ShipmentEvent::LocationRecorded(e) => {
                assert_eq!(e.location, "Basel");
                assert_eq!(e.lat, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn current_versions_pass_through_and_bad_ones_are_named() {
        let data = json!({"picked_up_at": "2026-11-28T10:00:00Z"});
        assert_eq!(
            upcast_to_current("ShipmentPickedUp", 1, data.clone()).unwrap(),
            (1, data)
        );
        assert!(matches!(
            upcast_to_current("LocationRecorded", 3, json!({})),
            Err(UpcastError::FromTheFuture { .. })
        ));
        assert!(matches!(
            upcast_to_current("LocationRecorded", 1, json!({"recorded_at": "x"})),
            Err(UpcastError::Malformed { .. })
        ));
    }
}
