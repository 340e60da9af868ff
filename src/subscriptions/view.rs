//! What a subscription is and what pages show of it: parsed input types and view rows.

use crate::domain::{FieldError, Shipment, ShipmentEvent};
use crate::text_enum::text_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    pub enum SubscriptionState {
        Active = "active",
        Paused = "paused",
    }
}

impl SubscriptionState {
    pub fn label(self) -> &'static str {
        match self {
            SubscriptionState::Active => "Active",
            SubscriptionState::Paused => "Paused",
        }
    }
}

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    pub enum DeliveryStatus {
        /// Waiting for its first attempt or for the next retry.
        Pending = "pending",
        Delivered = "delivered",
        /// Every attempt failed (or the receiver refused it): waits for a person.
        Dead = "dead",
        /// A person decided a dead delivery is not to be sent.
        Discarded = "discarded",
    }
}

impl DeliveryStatus {
    pub fn label(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "Pending",
            DeliveryStatus::Delivered => "Delivered",
            DeliveryStatus::Dead => "Dead letter",
            DeliveryStatus::Discarded => "Discarded",
        }
    }
}

/// Which events a subscription wants: some event types (none listed: all shipment events),
/// and optionally only shipments whose origin or destination contains a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSelection {
    types: Vec<String>,
    place: String,
}

/// The longest place filter accepted.
const PLACE_FILTER_MAX_CHARS: usize = 120;

impl EventSelection {
    pub fn parse(types: &[String], place: &str) -> Result<Self, FieldError> {
        let mut chosen = Vec::new();
        for t in types.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            if !ShipmentEvent::TYPES.contains(&t) {
                return Err(FieldError::new(
                    "event_types",
                    format!("{t:?} is not a shipment event type"),
                ));
            }
            if !chosen.iter().any(|c| c == t) {
                chosen.push(t.to_string());
            }
        }
        // Every type listed is the same as none listed; store it as "all".
        if chosen.len() == ShipmentEvent::TYPES.len() {
            chosen.clear();
        }
        let place = place.trim();
        if place.chars().count() > PLACE_FILTER_MAX_CHARS {
            return Err(FieldError::new(
                "place_filter",
                format!("is longer than {PLACE_FILTER_MAX_CHARS} characters"),
            ));
        }
        Ok(Self {
            types: chosen,
            place: place.to_string(),
        })
    }

    /// As stored: comma-separated type names (empty: all).
    pub fn from_stored(types: &str, place: &str) -> Self {
        Self {
            types: types
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            place: place.to_string(),
        }
    }

    pub fn types_text(&self) -> String {
        self.types.join(",")
    }

    pub fn types(&self) -> &[String] {
        &self.types
    }

    pub fn place(&self) -> &str {
        &self.place
    }

    /// Whether the event type is wanted at all (checked before the shipment is loaded).
    pub fn wants_type(&self, event_type: &str) -> bool {
        self.types.is_empty() || self.types.iter().any(|t| t == event_type)
    }

    /// Whether an event of this type, leaving the shipment in this state, is to be delivered.
    pub fn matches(&self, event_type: &str, shipment: Option<&Shipment>) -> bool {
        if !self.wants_type(event_type) {
            return false;
        }
        if self.place.is_empty() {
            return true;
        }
        let needle = self.place.to_lowercase();
        shipment.is_some_and(|s| {
            s.origin.to_lowercase().contains(&needle)
                || s.destination.to_lowercase().contains(&needle)
        })
    }

    /// For people: "all shipment events" or the list, and the place filter.
    pub fn describe(&self) -> String {
        let types = if self.types.is_empty() {
            "all shipment events".to_string()
        } else {
            self.types.join(", ")
        };
        if self.place.is_empty() {
            types
        } else {
            format!("{types}; origin or destination contains “{}”", self.place)
        }
    }
}

/// Where a rewind sends a subscription back to: re-send from the event at this global
/// position, or from the first event recorded at or after this time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewindTarget {
    Position(i64),
    Time(DateTime<Utc>),
}

impl RewindTarget {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let input = input.trim();
        if let Ok(position) = input.parse::<i64>() {
            return if position >= 1 {
                Ok(RewindTarget::Position(position))
            } else {
                Err(FieldError::new("to", "a position starts at 1"))
            };
        }
        crate::zone::Zone::Utc
            .parse_form_time("to", input)
            .map(RewindTarget::Time)
            .map_err(|_| {
                FieldError::new(
                    "to",
                    "is neither a position (e.g. 1200) nor a UTC time (e.g. 2026-11-28T14:30)",
                )
            })
    }

    pub fn describe(&self) -> String {
        match self {
            RewindTarget::Position(p) => format!("position {p}"),
            RewindTarget::Time(t) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        }
    }
}

/// One subscription as the console lists it. The secret is never part of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionSummary {
    pub id: i64,
    pub name: String,
    pub target_url: String,
    pub selection: EventSelection,
    pub state: SubscriptionState,
    pub max_attempts: i64,
    /// The global position of the last event the subscription has looked at.
    pub checkpoint: i64,
    /// Events in the log after the checkpoint.
    pub lag_events: i64,
    pub owner: Option<String>,
    pub pending: i64,
    pub delivered: i64,
    pub dead: i64,
    pub last_error: Option<DeliveryError>,
    /// When the latest delivery succeeded. Test deliveries count in none of these figures.
    #[serde(default)]
    pub last_delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// How a subscription is doing, as the console shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Active,
    Paused,
    /// Active, but its deliveries die, or its latest attempt failed after its latest success.
    Failing,
}

impl Health {
    pub fn label(self) -> &'static str {
        match self {
            Health::Active => "Active",
            Health::Paused => "Paused",
            Health::Failing => "Failing",
        }
    }

    /// The CSS class of its badge.
    pub fn class(self) -> &'static str {
        match self {
            Health::Active => "health health-active",
            Health::Paused => "health health-paused",
            Health::Failing => "health health-failing",
        }
    }
}

/// A subscription's health from its state, dead letters and latest attempts.
pub fn health(
    state: SubscriptionState,
    dead: i64,
    last_error_at: Option<DateTime<Utc>>,
    last_delivered_at: Option<DateTime<Utc>>,
) -> Health {
    let latest_failed = match (last_error_at, last_delivered_at) {
        (Some(failed), Some(delivered)) => failed > delivered,
        (Some(_), None) => true,
        (None, _) => false,
    };
    match state {
        SubscriptionState::Paused => Health::Paused,
        SubscriptionState::Active if dead > 0 || latest_failed => Health::Failing,
        SubscriptionState::Active => Health::Active,
    }
}

impl SubscriptionSummary {
    pub fn health(&self) -> Health {
        health(
            self.state,
            self.dead,
            self.last_error.as_ref().map(|e| e.at),
            self.last_delivered_at,
        )
    }

    /// Delivered out of those that are finished (delivered or dead); none yet: `None`.
    pub fn success_rate(&self) -> Option<f64> {
        let finished = self.delivered + self.dead;
        (finished > 0).then(|| self.delivered as f64 / finished as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryError {
    pub at: DateTime<Utc>,
    pub status_code: Option<i64>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: i64,
    pub delivery_id: String,
    pub event_seq: i64,
    pub event_type: String,
    pub stream_id: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    /// The start of the receiver's last answer (at most 512 bytes).
    pub response_excerpt: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl DeliveryView {
    /// A test event has no shipment to link to.
    pub fn is_test(&self) -> bool {
        self.event_type == TEST_EVENT_TYPE
    }
}

/// The event type of the document "Send test event" delivers.
pub const TEST_EVENT_TYPE: &str = "WebhookTest";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionAuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// Everything the page of one subscription shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionDetail {
    pub summary: SubscriptionSummary,
    pub recent: Vec<DeliveryView>,
    /// A page of dead letters, oldest first.
    pub dead: Vec<DeliveryView>,
    /// Where this page of dead letters starts (after that delivery), if not at the first.
    pub dead_after: Option<i64>,
    /// The `dead_after` of the next page, if there is one.
    pub dead_next: Option<i64>,
    pub audit: Vec<SubscriptionAuditEntry>,
}

/// What creating a subscription answers: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedSubscription {
    pub id: i64,
    pub name: String,
    pub secret: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ShipmentId, ShipmentStatus};

    fn shipment(origin: &str, destination: &str) -> Shipment {
        Shipment {
            id: ShipmentId::generate(),
            origin: origin.into(),
            destination: destination.into(),
            status: ShipmentStatus::Scheduled,
            scheduled_at: Utc::now(),
            picked_up_at: None,
            delivered_at: None,
            cancelled_at: None,
            cancel_reason: None,
            last_location: None,
            last_location_at: None,
            location_count: 0,
        }
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn selections_match_by_type_and_place() {
        let rotterdam = shipment("Rotterdam", "Berlin");
        let table = [
            // (types, place, event type, shipment, matches)
            (vec![], "", "ShipmentPickedUp", Some(&rotterdam), true),
            (
                vec!["ShipmentDelivered"],
                "",
                "ShipmentPickedUp",
                Some(&rotterdam),
                false,
            ),
            (
                vec!["ShipmentDelivered"],
                "",
                "ShipmentDelivered",
                Some(&rotterdam),
                true,
            ),
            (vec![], "rotter", "ShipmentPickedUp", Some(&rotterdam), true),
            (vec![], "BERLIN", "ShipmentPickedUp", Some(&rotterdam), true),
            (vec![], "Paris", "ShipmentPickedUp", Some(&rotterdam), false),
            (vec![], "Paris", "ShipmentPickedUp", None, false),
            (vec![], "", "ShipmentPickedUp", None, true),
        ];
        for (types, place, event_type, state, expected) in table {
            let selection = EventSelection::parse(&strings(&types), place).unwrap();
            assert_eq!(
                selection.matches(event_type, state),
                expected,
                "{types:?} {place:?} {event_type}"
            );
        }
    }

    #[test]
    fn selections_are_parsed_at_the_edge() {
        assert!(EventSelection::parse(&strings(&["Bogus"]), "").is_err());
        assert!(EventSelection::parse(&[], &"x".repeat(121)).is_err());
        let all = EventSelection::parse(&strings(&ShipmentEvent::TYPES), "").unwrap();
        assert_eq!(all.types_text(), "", "every type is stored as all");
        let twice = strings(&["ShipmentPickedUp", " ShipmentPickedUp "]);
        let parsed = EventSelection::parse(&twice, " Rotterdam ").unwrap();
        assert_eq!(parsed.types_text(), "ShipmentPickedUp");
        assert_eq!(parsed.place(), "Rotterdam");
        let stored = EventSelection::from_stored(&parsed.types_text(), parsed.place());
        assert_eq!(stored, parsed);
    }

    #[test]
    fn rewind_targets_are_a_position_or_a_utc_time() {
        assert_eq!(RewindTarget::parse(" 12 "), Ok(RewindTarget::Position(12)));
        assert!(RewindTarget::parse("0").is_err());
        assert!(RewindTarget::parse("-3").is_err());
        assert!(RewindTarget::parse("yesterday").is_err());
        let at = RewindTarget::parse("2026-11-28T14:30").unwrap();
        assert_eq!(at.describe(), "2026-11-28 14:30:00 UTC");
    }

    #[test]
    fn a_subscription_whose_deliveries_die_is_failing() {
        use SubscriptionState::{Active, Paused};
        let t = |minute: u32| {
            use chrono::TimeZone;
            Some(Utc.with_ymd_and_hms(2026, 12, 1, 8, minute, 0).unwrap())
        };
        let cases = [
            (Active, 0, None, None, Health::Active),
            (Active, 0, None, t(1), Health::Active),
            (Active, 0, t(1), t(2), Health::Active),
            (Active, 0, t(2), t(1), Health::Failing),
            (Active, 0, t(1), None, Health::Failing),
            (Active, 3, None, t(5), Health::Failing),
            (Paused, 3, t(2), None, Health::Paused),
            (Paused, 0, None, None, Health::Paused),
        ];
        for (state, dead, failed, delivered, want) in cases {
            assert_eq!(
                health(state, dead, failed, delivered),
                want,
                "{state:?} {dead} {failed:?} {delivered:?}"
            );
        }
    }

    #[test]
    fn states_and_statuses_round_trip() {
        for s in [SubscriptionState::Active, SubscriptionState::Paused] {
            assert_eq!(SubscriptionState::parse(s.as_str()), Some(s));
        }
        for s in [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Dead,
            DeliveryStatus::Discarded,
        ] {
            assert_eq!(DeliveryStatus::parse(s.as_str()), Some(s));
        }
    }
}
