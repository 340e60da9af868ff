//! `daily_shipments`: per calendar day (UTC), how many shipments were scheduled, picked up,
//! delivered and cancelled, across all streams.

use super::ApplyError;
use crate::db::{TableName, Tx};
use crate::domain::ShipmentEvent;
use crate::store::RecordedEvent;
use chrono::NaiveDate;
use std::collections::BTreeMap;

pub fn create_table_sql(table: &TableName) -> Vec<String> {
    vec![format!(
        "CREATE TABLE IF NOT EXISTS {table} (
            day TEXT PRIMARY KEY,
            scheduled BIGINT NOT NULL DEFAULT 0,
            picked_up BIGINT NOT NULL DEFAULT 0,
            delivered BIGINT NOT NULL DEFAULT 0,
            cancelled BIGINT NOT NULL DEFAULT 0
        )"
    )]
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub scheduled: i64,
    pub picked_up: i64,
    pub delivered: i64,
    pub cancelled: i64,
}

/// Which day and which counter an event adds to. A shipment counts as scheduled on the day it
/// was scheduled (not its planned pickup day); the others on the day they happened.
pub fn classify(recorded: &RecordedEvent, event: &ShipmentEvent) -> Option<(NaiveDate, usize)> {
    match event {
        ShipmentEvent::Scheduled(_) => Some((recorded.recorded_at.date_naive(), 0)),
        ShipmentEvent::PickedUp(e) => Some((e.picked_up_at.date_naive(), 1)),
        ShipmentEvent::Delivered(e) => Some((e.delivered_at.date_naive(), 2)),
        ShipmentEvent::Cancelled(e) => Some((e.cancelled_at.date_naive(), 3)),
        ShipmentEvent::LocationRecorded(_) => None,
    }
}

pub async fn apply(
    tx: &mut Tx,
    table: &TableName,
    relevant: &[&RecordedEvent],
) -> Result<(), ApplyError> {
    let mut days: BTreeMap<NaiveDate, [i64; 4]> = BTreeMap::new();
    for &recorded in relevant {
        let event = ShipmentEvent::from_json(&recorded.event_type, &recorded.data)
            .map_err(|e| ApplyError::event(recorded, e.to_string()))?;
        if let Some((day, counter)) = classify(recorded, &event) {
            days.entry(day).or_default()[counter] += 1;
        }
    }
    let sql = format!(
        "INSERT INTO {table} (day, scheduled, picked_up, delivered, cancelled) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (day) DO UPDATE SET
            scheduled = {table}.scheduled + excluded.scheduled,
            picked_up = {table}.picked_up + excluded.picked_up,
            delivered = {table}.delivered + excluded.delivered,
            cancelled = {table}.cancelled + excluded.cancelled"
    );
    for (day, [scheduled, picked_up, delivered, cancelled]) in days {
        sqlx::query(&sql)
            .bind(day.format("%Y-%m-%d").to_string())
            .bind(scheduled)
            .bind(picked_up)
            .bind(delivered)
            .bind(cancelled)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
