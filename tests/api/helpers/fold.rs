//! The oracle: what the projections should hold, folded here from the raw JSON of the events
//! (without the domain's `evolve`), and the assertion that every version equals it.

use freightdesk::db::PortableDb;
use freightdesk::projections::queries;
use freightdesk::projections::{BoardRow, Definition};
use freightdesk::store::{Checkpoint, EventStore, RecordedEvent};
use std::collections::BTreeMap;

/// What a board row should hold, folded here from the raw JSON of the events, without the
/// domain's `evolve`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expected {
    pub origin: String,
    pub destination: String,
    pub status: String,
    pub version: i64,
    pub picked_up: bool,
    pub delivered: bool,
    pub cancelled: bool,
    pub last_location: Option<String>,
    pub location_count: u32,
}

pub fn expected_board(events: &[RecordedEvent]) -> BTreeMap<String, Expected> {
    let mut rows: BTreeMap<String, Expected> = BTreeMap::new();
    for e in events {
        let key = e.stream_id.to_string();
        let row = rows.entry(key).or_default();
        row.version = e.version;
        match e.event_type.as_str() {
            "ShipmentScheduled" => {
                row.origin = e.data["origin"].as_str().unwrap().to_string();
                row.destination = e.data["destination"].as_str().unwrap().to_string();
                row.status = "Scheduled".into();
            }
            "ShipmentPickedUp" => {
                row.status = "InTransit".into();
                row.picked_up = true;
            }
            "LocationRecorded" => {
                row.last_location = Some(e.data["location"].as_str().unwrap().to_string());
                row.location_count += 1;
            }
            "ShipmentDelivered" => {
                row.status = "Delivered".into();
                row.delivered = true;
            }
            "ShipmentCancelled" => {
                row.status = "Cancelled".into();
                row.cancelled = true;
            }
            other => panic!("unexpected event type {other}"),
        }
    }
    rows
}

pub fn actual_board(rows: &[BoardRow], with_locations: bool) -> BTreeMap<String, Expected> {
    rows.iter()
        .map(|r| {
            let s = &r.shipment;
            (
                s.id.to_string(),
                Expected {
                    origin: s.origin.clone(),
                    destination: s.destination.clone(),
                    status: s.status.as_str().to_string(),
                    version: r.version,
                    picked_up: s.picked_up_at.is_some(),
                    delivered: s.delivered_at.is_some(),
                    cancelled: s.cancelled_at.is_some(),
                    last_location: if with_locations {
                        s.last_location.clone()
                    } else {
                        None
                    },
                    location_count: if with_locations { s.location_count } else { 0 },
                },
            )
        })
        .collect()
}

/// v1 does not store locations (its rows still follow the stream version).
pub fn without_locations(mut rows: BTreeMap<String, Expected>) -> BTreeMap<String, Expected> {
    for row in rows.values_mut() {
        row.last_location = None;
        row.location_count = 0;
    }
    rows
}

pub fn expected_daily(events: &[RecordedEvent]) -> BTreeMap<String, [i64; 4]> {
    let mut days: BTreeMap<String, [i64; 4]> = BTreeMap::new();
    for e in events {
        let (time, i) = match e.event_type.as_str() {
            "ShipmentScheduled" => (e.recorded_at.to_rfc3339(), 0),
            "ShipmentPickedUp" => (e.data["picked_up_at"].as_str().unwrap().to_string(), 1),
            "ShipmentDelivered" => (e.data["delivered_at"].as_str().unwrap().to_string(), 2),
            "ShipmentCancelled" => (e.data["cancelled_at"].as_str().unwrap().to_string(), 3),
            _ => continue,
        };
        days.entry(time[..10].to_string()).or_default()[i] += 1;
    }
    days
}

pub async fn all_events(store: &EventStore) -> Vec<RecordedEvent> {
    let mut out = Vec::new();
    let mut checkpoint = Checkpoint::START;
    loop {
        let batch = store.read_all(&checkpoint, 1000).await.unwrap();
        if batch.events.is_empty() {
            return out;
        }
        checkpoint = batch.next;
        out.extend(batch.events);
    }
}

/// Every version's rows equal the fold of the whole log.
pub async fn assert_matches_fold(app_store: &EventStore, db: &PortableDb) {
    let events = all_events(app_store).await;
    let expected = expected_board(&events);
    let v2 = queries::board_rows(db, Definition::ShipmentBoardV2)
        .await
        .unwrap();
    assert_eq!(actual_board(&v2, true), expected, "shipment_board@2");
    let v1 = queries::board_rows(db, Definition::ShipmentBoardV1)
        .await
        .unwrap();
    assert_eq!(
        actual_board(&v1, false),
        without_locations(expected),
        "shipment_board@1"
    );
    let (_, days) = queries::daily(db, 1000).await.unwrap();
    let actual: BTreeMap<String, [i64; 4]> = days
        .into_iter()
        .map(|(d, c)| (d, [c.scheduled, c.picked_up, c.delivered, c.cancelled]))
        .collect();
    assert_eq!(actual, expected_daily(&events), "daily_shipments@1");
}
