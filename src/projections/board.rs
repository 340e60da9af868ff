//! `shipment_board`: one row per shipment, the dispatch board. v1 has status, places, times and
//! the stream version; v2 adds the last known location, the number of location reports and the
//! time in transit. A row is the domain's own fold of the shipment's events, stored.

use super::ApplyError;
use crate::db::{col, time_col, time_text, SqlBuilder, TableName, Tx};
use crate::domain::{evolve, Shipment, ShipmentEvent, ShipmentId, ShipmentStatus};
use crate::store::RecordedEvent;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use std::collections::{HashMap, HashSet};

pub fn create_table_sql(table: &TableName, with_locations: bool) -> Vec<String> {
    let locations = if with_locations {
        "last_location TEXT, last_location_at TEXT, location_count BIGINT NOT NULL DEFAULT 0, \
         transit_seconds BIGINT,"
    } else {
        ""
    };
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (
            shipment_id TEXT PRIMARY KEY,
            origin TEXT NOT NULL,
            destination TEXT NOT NULL,
            status TEXT NOT NULL,
            scheduled_at TEXT NOT NULL,
            picked_up_at TEXT,
            delivered_at TEXT,
            cancelled_at TEXT,
            cancel_reason TEXT,
            {locations}
            version BIGINT NOT NULL,
            updated_at TEXT NOT NULL
        )"
        ),
        format!("CREATE INDEX IF NOT EXISTS {table}_by_time ON {table} (scheduled_at, shipment_id)"),
        format!(
            "CREATE INDEX IF NOT EXISTS {table}_by_status ON {table} (status, scheduled_at, shipment_id)"
        ),
    ]
}

/// What every board version stores about a shipment, besides its key and bookkeeping: the
/// columns a cutover compares.
pub const SHARED_COLUMNS: [&str; 9] = [
    "origin",
    "destination",
    "status",
    "scheduled_at",
    "picked_up_at",
    "delivered_at",
    "cancelled_at",
    "cancel_reason",
    "version",
];

/// What v2 adds.
const LOCATION_COLUMNS: [&str; 4] = [
    "last_location",
    "last_location_at",
    "location_count",
    "transit_seconds",
];

/// A board row: the shipment as folded so far, and the stream version it reflects.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardRow {
    pub shipment: Shipment,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl BoardRow {
    /// Seconds between pickup and delivery or cancellation; None while still moving or never
    /// picked up.
    pub fn transit_seconds(&self) -> Option<i64> {
        let start = self.shipment.picked_up_at?;
        let end = self.shipment.delivered_at.or(self.shipment.cancelled_at)?;
        Some((end - start).num_seconds())
    }
}

pub fn row_from_sql(row: &AnyRow, with_locations: bool) -> Result<BoardRow, sqlx::Error> {
    let decode = |e: String| sqlx::Error::Decode(e.into());
    let id: String = col(row, "shipment_id")?;
    let status: String = col(row, "status")?;
    let (last_location, last_location_at, location_count) = if with_locations {
        (
            col(row, "last_location")?,
            time_col(row, "last_location_at")?,
            col::<i64>(row, "location_count")? as u32,
        )
    } else {
        (None, None, 0)
    };
    Ok(BoardRow {
        shipment: Shipment {
            id: ShipmentId::parse(&id).map_err(|e| decode(e.to_string()))?,
            origin: col(row, "origin")?,
            destination: col(row, "destination")?,
            status: ShipmentStatus::parse(&status)
                .ok_or_else(|| decode(format!("status {status}")))?,
            scheduled_at: time_col(row, "scheduled_at")?
                .ok_or_else(|| decode("scheduled_at".into()))?,
            picked_up_at: time_col(row, "picked_up_at")?,
            delivered_at: time_col(row, "delivered_at")?,
            cancelled_at: time_col(row, "cancelled_at")?,
            cancel_reason: col(row, "cancel_reason")?,
            last_location,
            last_location_at,
            location_count,
        },
        version: col(row, "version")?,
        updated_at: time_col(row, "updated_at")?.ok_or_else(|| decode("updated_at".into()))?,
    })
}

/// Applies a batch: loads the rows the batch touches, folds the whole batch in memory, then
/// writes each changed row once, many rows per statement.
pub async fn apply(
    tx: &mut Tx,
    table: &TableName,
    with_locations: bool,
    relevant: &[&RecordedEvent],
) -> Result<(), ApplyError> {
    let mut rows = load_rows(tx, table, with_locations, relevant).await?;
    // Changed rows in the order first touched, so writes are deterministic.
    let mut changed: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for &recorded in relevant {
        let event = ShipmentEvent::from_json(&recorded.event_type, &recorded.data)
            .map_err(|e| ApplyError::event(recorded, e.to_string()))?;
        let key = recorded.stream_id.to_string();
        let current = rows.remove(&key);
        if let Some(row) = current.as_ref().filter(|r| r.version >= recorded.version) {
            rows.insert(key, row.clone()); // already reflected
            continue;
        }
        let folded = evolve(current.as_ref().map(|r| r.shipment.clone()), &event);
        match folded {
            Some(shipment) => {
                rows.insert(
                    key.clone(),
                    BoardRow {
                        shipment,
                        version: recorded.version,
                        updated_at: recorded.recorded_at,
                    },
                );
                if seen.insert(key.clone()) {
                    changed.push(key);
                }
            }
            None => {
                if let Some(row) = current {
                    rows.insert(key, row);
                }
            }
        }
    }
    let changed: Vec<&BoardRow> = changed.iter().filter_map(|key| rows.get(key)).collect();
    for chunk in changed.chunks(ROWS_PER_UPSERT) {
        upsert(tx, table, with_locations, chunk).await?;
    }
    Ok(())
}

/// Rows per multi-row upsert: 15 parameters a row stays well below both backends' limits.
const ROWS_PER_UPSERT: usize = 500;
/// Keys per lookup of the rows a batch touches.
const KEYS_PER_LOOKUP: usize = 1000;

async fn load_rows(
    tx: &mut Tx,
    table: &TableName,
    with_locations: bool,
    events: &[&RecordedEvent],
) -> Result<HashMap<String, BoardRow>, ApplyError> {
    let mut ids: Vec<String> = events.iter().map(|e| e.stream_id.to_string()).collect();
    ids.sort();
    ids.dedup();
    let mut rows = HashMap::new();
    for chunk in ids.chunks(KEYS_PER_LOOKUP) {
        let mut sql = SqlBuilder::new(format!("SELECT * FROM {table} WHERE shipment_id IN ("));
        sql.push_bind_list(chunk.iter().cloned()).push(")");
        let (sql, args) = sql.build();
        for row in sqlx::query_with(&sql, args).fetch_all(&mut **tx).await? {
            let row = row_from_sql(&row, with_locations)?;
            rows.insert(row.shipment.id.to_string(), row);
        }
    }
    Ok(rows)
}

/// Inserts or replaces the rows with one statement.
async fn upsert(
    tx: &mut Tx,
    table: &TableName,
    with_locations: bool,
    rows: &[&BoardRow],
) -> Result<(), sqlx::Error> {
    let opt = |t: Option<DateTime<Utc>>| t.map(time_text);
    let mut columns = vec!["shipment_id"];
    columns.extend(SHARED_COLUMNS);
    columns.push("updated_at");
    if with_locations {
        columns.extend(LOCATION_COLUMNS);
    }
    let mut sql = SqlBuilder::new(format!(
        "INSERT INTO {table} ({}) VALUES ",
        columns.join(", ")
    ));
    for (i, row) in rows.iter().enumerate() {
        let s = &row.shipment;
        sql.push(if i == 0 { "(" } else { ", (" });
        // Bound in the order of `columns`.
        sql.push_bind(s.id.to_string())
            .push(", ")
            .push_bind(s.origin.clone())
            .push(", ")
            .push_bind(s.destination.clone())
            .push(", ")
            .push_bind(s.status.as_str())
            .push(", ")
            .push_bind(time_text(s.scheduled_at))
            .push(", ")
            .push_bind(opt(s.picked_up_at))
            .push(", ")
            .push_bind(opt(s.delivered_at))
            .push(", ")
            .push_bind(opt(s.cancelled_at))
            .push(", ")
            .push_bind(s.cancel_reason.clone())
            .push(", ")
            .push_bind(row.version)
            .push(", ")
            .push_bind(time_text(row.updated_at));
        if with_locations {
            sql.push(", ")
                .push_bind(s.last_location.clone())
                .push(", ")
                .push_bind(opt(s.last_location_at))
                .push(", ")
                .push_bind(i64::from(s.location_count))
                .push(", ")
                .push_bind(row.transit_seconds());
        }
        sql.push(")");
    }
    let updates: Vec<String> = columns[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    sql.push(format_args!(
        " ON CONFLICT (shipment_id) DO UPDATE SET {}",
        updates.join(", ")
    ));
    let (sql, args) = sql.build();
    sqlx::query_with(&sql, args).execute(&mut **tx).await?;
    Ok(())
}
