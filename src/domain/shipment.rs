//! The FreightShipment aggregate: events, commands, state and the two pure functions
//! `decide` (command + state -> new events or a refusal) and `evolve` (state + event -> state).

use super::values::{CancelReason, Coordinates, Notes, PlaceName, ShipmentId};
use crate::text_enum::text_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum ShipmentStatus {
        Scheduled = "Scheduled",
        InTransit = "InTransit",
        Delivered = "Delivered",
        Cancelled = "Cancelled",
    }
}

impl ShipmentStatus {
    /// How a person reads it (the stored name is `as_str`).
    pub fn label(&self) -> &'static str {
        match self {
            ShipmentStatus::Scheduled => "Scheduled",
            ShipmentStatus::InTransit => "In transit",
            ShipmentStatus::Delivered => "Delivered",
            ShipmentStatus::Cancelled => "Cancelled",
        }
    }

    /// Which commands this status allows; the UI shows exactly these actions.
    pub fn allowed_commands(&self) -> &'static [CommandKind] {
        match self {
            ShipmentStatus::Scheduled => &[CommandKind::PickUp, CommandKind::Cancel],
            ShipmentStatus::InTransit => &[
                CommandKind::RecordLocation,
                CommandKind::Deliver,
                CommandKind::Cancel,
            ],
            ShipmentStatus::Delivered | ShipmentStatus::Cancelled => &[],
        }
    }
}

impl fmt::Display for ShipmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---- events: the facts, stored as JSON. Field names are the stored schema. ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentScheduled {
    pub shipment_id: ShipmentId,
    pub origin: String,
    pub destination: String,
    /// The planned pickup time.
    pub scheduled_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentPickedUp {
    pub picked_up_at: DateTime<Utc>,
}

/// Schema version 2; version 1 stored a single `place` string (see the store's upcasters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocationRecorded {
    pub location: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub recorded_at: DateTime<Utc>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentDelivered {
    pub delivered_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentCancelled {
    pub reason: String,
    pub cancelled_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ShipmentEvent {
    Scheduled(ShipmentScheduled),
    PickedUp(ShipmentPickedUp),
    LocationRecorded(LocationRecorded),
    Delivered(ShipmentDelivered),
    Cancelled(ShipmentCancelled),
}

/// The stream kind under which shipments are stored.
pub const SHIPMENT_STREAM_KIND: &str = "FreightShipment";

/// An event type name that the store knows nothing about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDecodeError {
    #[error("unknown event type {0}")]
    UnknownType(String),
    #[error("event {event_type} has malformed data: {message}")]
    Malformed { event_type: String, message: String },
}

/// The stored names of the event types: the one list every other place refers to.
pub mod event_types {
    pub const SCHEDULED: &str = "ShipmentScheduled";
    pub const PICKED_UP: &str = "ShipmentPickedUp";
    pub const LOCATION_RECORDED: &str = "LocationRecorded";
    pub const DELIVERED: &str = "ShipmentDelivered";
    pub const CANCELLED: &str = "ShipmentCancelled";
}

/// Why a planned pickup deserves a second look before it is scheduled: it lies in the past
/// (by more than an hour: "now" typed a minute ago is not), or more than six months ahead. Both
/// are allowed once the dispatcher confirms them: a late entry and a long-term booking exist;
/// a typo in the year is more likely.
pub fn unusual_pickup(planned: DateTime<Utc>, now: DateTime<Utc>) -> Option<&'static str> {
    if planned < now - chrono::Duration::hours(1) {
        Some("is in the past")
    } else if planned > now + chrono::Duration::days(183) {
        Some("is more than six months ahead")
    } else {
        None
    }
}

/// An event type as a person says it ("Picked up"); the stored name stays in the JSON view.
/// A type this build does not know is shown as it is stored.
pub fn humanize_event_type(event_type: &str) -> String {
    match event_type {
        event_types::SCHEDULED => "Scheduled",
        event_types::PICKED_UP => "Picked up",
        event_types::LOCATION_RECORDED => "Location recorded",
        event_types::DELIVERED => "Delivered",
        event_types::CANCELLED => "Cancelled",
        other => other,
    }
    .to_string()
}

impl ShipmentEvent {
    pub const TYPES: [&'static str; 5] = [
        event_types::SCHEDULED,
        event_types::PICKED_UP,
        event_types::LOCATION_RECORDED,
        event_types::DELIVERED,
        event_types::CANCELLED,
    ];

    pub fn event_type(&self) -> &'static str {
        match self {
            ShipmentEvent::Scheduled(_) => event_types::SCHEDULED,
            ShipmentEvent::PickedUp(_) => event_types::PICKED_UP,
            ShipmentEvent::LocationRecorded(_) => event_types::LOCATION_RECORDED,
            ShipmentEvent::Delivered(_) => event_types::DELIVERED,
            ShipmentEvent::Cancelled(_) => event_types::CANCELLED,
        }
    }

    /// The schema version new events of this type are written with.
    pub fn current_schema_version(event_type: &str) -> i32 {
        match event_type {
            event_types::LOCATION_RECORDED => 2,
            _ => 1,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        let value = match self {
            ShipmentEvent::Scheduled(e) => serde_json::to_value(e),
            ShipmentEvent::PickedUp(e) => serde_json::to_value(e),
            ShipmentEvent::LocationRecorded(e) => serde_json::to_value(e),
            ShipmentEvent::Delivered(e) => serde_json::to_value(e),
            ShipmentEvent::Cancelled(e) => serde_json::to_value(e),
        };
        value.expect("event structs serialize to JSON")
    }

    /// Decodes event data at the current schema version (upcasting happens before this).
    pub fn from_json(event_type: &str, data: &serde_json::Value) -> Result<Self, EventDecodeError> {
        fn de<T: serde::de::DeserializeOwned>(
            event_type: &str,
            data: &serde_json::Value,
        ) -> Result<T, EventDecodeError> {
            T::deserialize(data).map_err(|e| EventDecodeError::Malformed {
                event_type: event_type.to_string(),
                message: e.to_string(),
            })
        }
        Ok(match event_type {
            event_types::SCHEDULED => ShipmentEvent::Scheduled(de(event_type, data)?),
            event_types::PICKED_UP => ShipmentEvent::PickedUp(de(event_type, data)?),
            event_types::LOCATION_RECORDED => {
                ShipmentEvent::LocationRecorded(de(event_type, data)?)
            }
            event_types::DELIVERED => ShipmentEvent::Delivered(de(event_type, data)?),
            event_types::CANCELLED => ShipmentEvent::Cancelled(de(event_type, data)?),
            other => return Err(EventDecodeError::UnknownType(other.to_string())),
        })
    }

    /// One line a person can read in a timeline or a conflict panel (times in UTC).
    pub fn summary(&self) -> String {
        self.summary_with(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
    }

    /// The same line, with its times written by `time` (a page writes them in its reader's zone).
    pub fn summary_with(&self, time: impl Fn(DateTime<Utc>) -> String) -> String {
        match self {
            ShipmentEvent::Scheduled(e) => format!(
                "Scheduled {} → {}, pickup planned {}",
                e.origin,
                e.destination,
                time(e.scheduled_at)
            ),
            ShipmentEvent::PickedUp(_) => "Picked up".to_string(),
            ShipmentEvent::LocationRecorded(e) => {
                let mut s = format!("At {}", e.location);
                if let (Some(lat), Some(lon)) = (e.lat, e.lon) {
                    s.push_str(&format!(" ({lat:.4}, {lon:.4})"));
                }
                if let Some(notes) = &e.notes {
                    s.push_str(&format!(" — {notes}"));
                }
                s
            }
            ShipmentEvent::Delivered(_) => "Delivered".to_string(),
            ShipmentEvent::Cancelled(e) => format!("Cancelled: {}", e.reason),
        }
    }
}

// ---- state ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    pub id: ShipmentId,
    pub origin: String,
    pub destination: String,
    pub status: ShipmentStatus,
    pub scheduled_at: DateTime<Utc>,
    pub picked_up_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub last_location: Option<String>,
    pub last_location_at: Option<DateTime<Utc>>,
    pub location_count: u32,
}

/// Folds one event into the state. A stream that does not exist yet is `None`.
/// Events that cannot apply (e.g. a pickup before scheduling) are ignored: the store
/// only holds events that `decide` produced, so this only guards against corruption.
pub fn evolve(state: Option<Shipment>, event: &ShipmentEvent) -> Option<Shipment> {
    match (state, event) {
        (None, ShipmentEvent::Scheduled(e)) => Some(Shipment {
            id: e.shipment_id,
            origin: e.origin.clone(),
            destination: e.destination.clone(),
            status: ShipmentStatus::Scheduled,
            scheduled_at: e.scheduled_at,
            picked_up_at: None,
            delivered_at: None,
            cancelled_at: None,
            cancel_reason: None,
            last_location: None,
            last_location_at: None,
            location_count: 0,
        }),
        (None, _) => None,
        (Some(s), ShipmentEvent::Scheduled(_)) => Some(s),
        (Some(s), ShipmentEvent::PickedUp(e)) => Some(Shipment {
            status: ShipmentStatus::InTransit,
            picked_up_at: Some(e.picked_up_at),
            ..s
        }),
        (Some(s), ShipmentEvent::LocationRecorded(e)) => Some(Shipment {
            last_location: Some(e.location.clone()),
            last_location_at: Some(e.recorded_at),
            location_count: s.location_count + 1,
            ..s
        }),
        (Some(s), ShipmentEvent::Delivered(e)) => Some(Shipment {
            status: ShipmentStatus::Delivered,
            delivered_at: Some(e.delivered_at),
            ..s
        }),
        (Some(s), ShipmentEvent::Cancelled(e)) => Some(Shipment {
            status: ShipmentStatus::Cancelled,
            cancelled_at: Some(e.cancelled_at),
            cancel_reason: Some(e.reason.clone()),
            ..s
        }),
    }
}

pub fn fold<'a>(events: impl IntoIterator<Item = &'a ShipmentEvent>) -> Option<Shipment> {
    events.into_iter().fold(None, evolve)
}

// ---- commands ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CommandKind {
    Schedule,
    PickUp,
    RecordLocation,
    Deliver,
    Cancel,
}

impl CommandKind {
    /// The command name stored in event metadata.
    pub fn name(&self) -> &'static str {
        match self {
            CommandKind::Schedule => "ScheduleShipment",
            CommandKind::PickUp => "PickUpShipment",
            CommandKind::RecordLocation => "RecordLocation",
            CommandKind::Deliver => "DeliverShipment",
            CommandKind::Cancel => "CancelShipment",
        }
    }

    /// The name a person sees on the command's button.
    pub fn label(&self) -> &'static str {
        match self {
            CommandKind::Schedule => "Schedule",
            CommandKind::PickUp => "Pick up",
            CommandKind::RecordLocation => "Record location",
            CommandKind::Deliver => "Deliver",
            CommandKind::Cancel => "Cancel shipment",
        }
    }

    /// The verb phrase used in refusals: "cannot {verb} a shipment that is …".
    pub fn verb(&self) -> &'static str {
        match self {
            CommandKind::Schedule => "schedule",
            CommandKind::PickUp => "pick up",
            CommandKind::RecordLocation => "record a location for",
            CommandKind::Deliver => "deliver",
            CommandKind::Cancel => "cancel",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ShipmentCommand {
    Schedule {
        shipment_id: ShipmentId,
        origin: PlaceName,
        destination: PlaceName,
        pickup_planned_at: DateTime<Utc>,
    },
    PickUp {
        at: DateTime<Utc>,
    },
    RecordLocation {
        location: PlaceName,
        position: Option<Coordinates>,
        notes: Option<Notes>,
        at: DateTime<Utc>,
    },
    Deliver {
        at: DateTime<Utc>,
    },
    Cancel {
        reason: CancelReason,
        at: DateTime<Utc>,
    },
}

impl ShipmentCommand {
    pub fn kind(&self) -> CommandKind {
        match self {
            ShipmentCommand::Schedule { .. } => CommandKind::Schedule,
            ShipmentCommand::PickUp { .. } => CommandKind::PickUp,
            ShipmentCommand::RecordLocation { .. } => CommandKind::RecordLocation,
            ShipmentCommand::Deliver { .. } => CommandKind::Deliver,
            ShipmentCommand::Cancel { .. } => CommandKind::Cancel,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum DomainError {
    #[error("shipment {0} already exists")]
    AlreadyExists(ShipmentId),
    #[error("no such shipment")]
    NotFound,
    #[error("cannot {} a shipment that is {status}", command.verb())]
    NotAllowed {
        command: CommandKind,
        status: ShipmentStatus,
    },
    #[error("origin and destination must differ")]
    SameOriginAndDestination,
}

/// Decides which events a command produces on the given state, or why it is refused.
pub fn decide(
    state: Option<&Shipment>,
    command: &ShipmentCommand,
) -> Result<Vec<ShipmentEvent>, DomainError> {
    let refuse = |status: ShipmentStatus| DomainError::NotAllowed {
        command: command.kind(),
        status,
    };
    match (state, command) {
        (
            None,
            ShipmentCommand::Schedule {
                shipment_id,
                origin,
                destination,
                pickup_planned_at,
            },
        ) => {
            if origin.as_str().eq_ignore_ascii_case(destination.as_str()) {
                return Err(DomainError::SameOriginAndDestination);
            }
            Ok(vec![ShipmentEvent::Scheduled(ShipmentScheduled {
                shipment_id: *shipment_id,
                origin: origin.as_str().to_string(),
                destination: destination.as_str().to_string(),
                scheduled_at: *pickup_planned_at,
            })])
        }
        (Some(s), ShipmentCommand::Schedule { .. }) => Err(DomainError::AlreadyExists(s.id)),
        (None, _) => Err(DomainError::NotFound),
        (Some(s), command) if !s.status.allowed_commands().contains(&command.kind()) => {
            Err(refuse(s.status))
        }
        (Some(_), ShipmentCommand::PickUp { at }) => {
            Ok(vec![ShipmentEvent::PickedUp(ShipmentPickedUp {
                picked_up_at: *at,
            })])
        }
        (
            Some(_),
            ShipmentCommand::RecordLocation {
                location,
                position,
                notes,
                at,
            },
        ) => Ok(vec![ShipmentEvent::LocationRecorded(LocationRecorded {
            location: location.as_str().to_string(),
            lat: position.map(|p| p.lat()),
            lon: position.map(|p| p.lon()),
            recorded_at: *at,
            notes: notes.as_ref().map(|n| n.as_str().to_string()),
        })]),
        (Some(_), ShipmentCommand::Deliver { at }) => {
            Ok(vec![ShipmentEvent::Delivered(ShipmentDelivered {
                delivered_at: *at,
            })])
        }
        (Some(_), ShipmentCommand::Cancel { reason, at }) => {
            Ok(vec![ShipmentEvent::Cancelled(ShipmentCancelled {
                reason: reason.as_str().to_string(),
                cancelled_at: *at,
            })])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn pickups_far_off_or_gone_are_questioned() {
        let now = t(12);
        let cases = [
            (now, None),
            (now - chrono::Duration::minutes(59), None),
            (now - chrono::Duration::minutes(61), Some("is in the past")),
            (now + chrono::Duration::days(183), None),
            (
                now + chrono::Duration::days(184),
                Some("is more than six months ahead"),
            ),
            (now - chrono::Duration::days(2500), Some("is in the past")),
        ];
        for (planned, want) in cases {
            assert_eq!(unusual_pickup(planned, now), want, "{planned}");
        }
    }

    #[test]
    fn event_types_read_as_words() {
        let cases = [
            ("ShipmentScheduled", "Scheduled"),
            ("ShipmentPickedUp", "Picked up"),
            ("LocationRecorded", "Location recorded"),
            ("ShipmentDelivered", "Delivered"),
            ("ShipmentCancelled", "Cancelled"),
            ("SomethingNewer", "SomethingNewer"),
        ];
        for (stored, shown) in cases {
            assert_eq!(humanize_event_type(stored), shown);
        }
        assert!(ShipmentEvent::TYPES
            .iter()
            .all(|t| humanize_event_type(t) != *t));
    }

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, h, 0, 0).unwrap()
    }

    fn schedule(id: ShipmentId) -> ShipmentCommand {
        ShipmentCommand::Schedule {
            shipment_id: id,
            origin: PlaceName::parse("origin", "Rotterdam").unwrap(),
            destination: PlaceName::parse("destination", "Milan").unwrap(),
            pickup_planned_at: t(9),
        }
    }

    fn command(kind: CommandKind, id: ShipmentId) -> ShipmentCommand {
        match kind {
            CommandKind::Schedule => schedule(id),
            CommandKind::PickUp => ShipmentCommand::PickUp { at: t(10) },
            CommandKind::RecordLocation => ShipmentCommand::RecordLocation {
                location: PlaceName::parse("location", "Basel").unwrap(),
                position: Some(Coordinates::new(47.56, 7.59).unwrap()),
                notes: None,
                at: t(11),
            },
            CommandKind::Deliver => ShipmentCommand::Deliver { at: t(12) },
            CommandKind::Cancel => ShipmentCommand::Cancel {
                reason: CancelReason::parse("customer withdrew").unwrap(),
                at: t(12),
            },
        }
    }

    /// Builds a shipment in the given status through `decide` + `evolve` only.
    fn shipment_in(status: Option<ShipmentStatus>, id: ShipmentId) -> Option<Shipment> {
        let path: &[CommandKind] = match status {
            None => &[],
            Some(ShipmentStatus::Scheduled) => &[CommandKind::Schedule],
            Some(ShipmentStatus::InTransit) => &[CommandKind::Schedule, CommandKind::PickUp],
            Some(ShipmentStatus::Delivered) => &[
                CommandKind::Schedule,
                CommandKind::PickUp,
                CommandKind::Deliver,
            ],
            Some(ShipmentStatus::Cancelled) => &[CommandKind::Schedule, CommandKind::Cancel],
        };
        path.iter().fold(None, |state, kind| {
            let events = decide(state.as_ref(), &command(*kind, id)).unwrap();
            events.iter().fold(state, evolve)
        })
    }

    #[test]
    fn every_status_and_command_pair() {
        use CommandKind::*;
        use ShipmentStatus::*;
        // (state, command, expected outcome: Ok(new status) or Err(refusal message))
        let table: Vec<(
            Option<ShipmentStatus>,
            CommandKind,
            Result<ShipmentStatus, &str>,
        )> = vec![
            (None, Schedule, Ok(Scheduled)),
            (None, PickUp, Err("no such shipment")),
            (None, RecordLocation, Err("no such shipment")),
            (None, Deliver, Err("no such shipment")),
            (None, Cancel, Err("no such shipment")),
            (Some(Scheduled), Schedule, Err("already exists")),
            (Some(Scheduled), PickUp, Ok(InTransit)),
            (
                Some(Scheduled),
                RecordLocation,
                Err("cannot record a location for a shipment that is Scheduled"),
            ),
            (
                Some(Scheduled),
                Deliver,
                Err("cannot deliver a shipment that is Scheduled"),
            ),
            (Some(Scheduled), Cancel, Ok(Cancelled)),
            (Some(InTransit), Schedule, Err("already exists")),
            (
                Some(InTransit),
                PickUp,
                Err("cannot pick up a shipment that is InTransit"),
            ),
            (Some(InTransit), RecordLocation, Ok(InTransit)),
            (Some(InTransit), Deliver, Ok(Delivered)),
            (Some(InTransit), Cancel, Ok(Cancelled)),
            (Some(Delivered), Schedule, Err("already exists")),
            (
                Some(Delivered),
                PickUp,
                Err("cannot pick up a shipment that is Delivered"),
            ),
            (
                Some(Delivered),
                RecordLocation,
                Err("cannot record a location for a shipment that is Delivered"),
            ),
            (
                Some(Delivered),
                Deliver,
                Err("cannot deliver a shipment that is Delivered"),
            ),
            (
                Some(Delivered),
                Cancel,
                Err("cannot cancel a shipment that is Delivered"),
            ),
            (Some(Cancelled), Schedule, Err("already exists")),
            (
                Some(Cancelled),
                PickUp,
                Err("cannot pick up a shipment that is Cancelled"),
            ),
            (
                Some(Cancelled),
                RecordLocation,
                Err("cannot record a location for a shipment that is Cancelled"),
            ),
            (
                Some(Cancelled),
                Deliver,
                Err("cannot deliver a shipment that is Cancelled"),
            ),
            (
                Some(Cancelled),
                Cancel,
                Err("cannot cancel a shipment that is Cancelled"),
            ),
        ];
        assert_eq!(table.len(), 5 * 5, "every (state, command) pair is listed");
        for (status, kind, expected) in table {
            let id = ShipmentId::generate();
            let state = shipment_in(status, id);
            let outcome = decide(state.as_ref(), &command(kind, id));
            match (outcome, expected) {
                (Ok(events), Ok(new_status)) => {
                    assert_eq!(events.len(), 1);
                    let next = events.iter().fold(state, evolve).unwrap();
                    assert_eq!(next.status, new_status, "{status:?} + {kind:?}");
                }
                (Err(e), Err(message)) => {
                    assert!(
                        e.to_string().contains(message),
                        "{status:?} + {kind:?}: got {e}, want {message}"
                    );
                }
                (got, want) => panic!("{status:?} + {kind:?}: got {got:?}, want {want:?}"),
            }
            // The UI's list of allowed actions agrees with decide.
            if let Some(s) = status {
                let allowed = s.allowed_commands().contains(&kind);
                let decided = decide(shipment_in(status, id).as_ref(), &command(kind, id)).is_ok();
                assert_eq!(allowed, decided, "{s:?} + {kind:?}");
            }
        }
    }

    #[test]
    fn evolve_tracks_times_and_locations() {
        let id = ShipmentId::generate();
        let mut state = shipment_in(Some(ShipmentStatus::InTransit), id);
        for _ in 0..2 {
            let events = decide(state.as_ref(), &command(CommandKind::RecordLocation, id)).unwrap();
            state = events.iter().fold(state, evolve);
        }
        let s = state.unwrap();
        assert_eq!(s.location_count, 2);
        assert_eq!(s.last_location.as_deref(), Some("Basel"));
        assert_eq!(s.picked_up_at, Some(t(10)));
        assert_eq!(s.scheduled_at, t(9));
    }

    #[test]
    fn origin_and_destination_must_differ() {
        let cmd = ShipmentCommand::Schedule {
            shipment_id: ShipmentId::generate(),
            origin: PlaceName::parse("origin", "Basel").unwrap(),
            destination: PlaceName::parse("destination", "basel").unwrap(),
            pickup_planned_at: t(9),
        };
        assert_eq!(
            decide(None, &cmd),
            Err(DomainError::SameOriginAndDestination)
        );
    }

    #[test]
    fn events_round_trip_through_json() {
        let id = ShipmentId::generate();
        let mut state = None;
        for kind in [
            CommandKind::Schedule,
            CommandKind::PickUp,
            CommandKind::RecordLocation,
            CommandKind::Cancel,
        ] {
            for event in decide(state.as_ref(), &command(kind, id)).unwrap() {
                let back = ShipmentEvent::from_json(event.event_type(), &event.to_json()).unwrap();
                assert_eq!(back, event);
                state = evolve(state, &event);
            }
        }
        assert!(matches!(
            ShipmentEvent::from_json("Nope", &serde_json::json!({})),
            Err(EventDecodeError::UnknownType(_))
        ));
    }
}
