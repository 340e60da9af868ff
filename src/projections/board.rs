//! `shipment_board`: one row per shipment, the dispatch board. v1 has status, places, times and
//! the stream version; v2 adds the last known location, the number of location reports and the
//! time in transit. A row is the domain's own fold of the shipment's events, stored.

use super::board_counts::{self, StatusMoves};
use super::ApplyError;
use crate::db::{col, json_strings_contain, select_json_rows, time_col, time_text, Dialect};
use crate::db::{encode_error, TableName, Tx};
use crate::domain::{evolve, Shipment, ShipmentEvent, ShipmentId, ShipmentStatus};
use crate::store::RecordedEvent;
use chrono::{DateTime, Utc};
use serde::Serialize;
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

/// The indexes of the board's other orders (by origin, destination or status, then the id),
/// so a page in any order reads its rows from an index instead of sorting the table. A table
/// gets them when it is complete (`ensure_sort_indexes`): a rebuild writes its rows without
/// them and indexes them in bulk at the end.
fn sort_indexes(table: &TableName) -> Vec<(String, String)> {
    ["origin", "destination", "status"]
        .into_iter()
        .map(|column| {
            let name = format!("{table}_in_{column}_order");
            let sql = format!("CREATE INDEX {name} ON {table} ({column}, shipment_id)");
            (name, sql)
        })
        .collect()
}

/// Gives a board table the sort indexes it lacks. Looked up first: even `IF NOT EXISTS` locks
/// the table against writes, and every node asks at start.
pub async fn ensure_sort_indexes(tx: &mut Tx, table: &TableName) -> Result<(), sqlx::Error> {
    for (name, sql) in sort_indexes(table) {
        if !relation_exists(tx, &name).await? {
            sqlx::query(&sql).execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// Whether a table or index of this name exists.
async fn relation_exists(tx: &mut Tx, name: &str) -> Result<bool, sqlx::Error> {
    let sql = match tx.dialect() {
        Dialect::Postgres => "SELECT COUNT(*) FROM pg_class WHERE relname = $1",
        Dialect::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE name = $1",
    };
    let found: i64 = sqlx::query_scalar(sql)
        .bind(name.to_string())
        .fetch_one(&mut **tx)
        .await?;
    Ok(found > 0)
}

/// Beside each board table, its search index: one row per shipment holding its id and places,
/// written once when the shipment first appears (they never change). Board rows change with
/// every event; keeping the trigram index off them keeps those writes cheap. PostgreSQL
/// indexes the text with pg_trgm (LIKE uses it), SQLite with FTS5's trigram tokenizer. A
/// rebuild's table gets its search table only when the rebuild finishes, filled and indexed in
/// bulk (see `ensure_search_table`): indexing row by row took a third of a rebuild's time.
pub fn search_table(table: &TableName) -> String {
    format!("{table}_search")
}

/// The search table, filled from the board table's rows, then indexed (in bulk: much cheaper
/// than row by row).
fn create_search_sql(table: &TableName, dialect: Dialect) -> Vec<String> {
    let search = search_table(table);
    let terms = search_terms_sql(dialect);
    match dialect {
        Dialect::Postgres => vec![
            format!("CREATE TABLE {search} (shipment_id TEXT PRIMARY KEY, terms TEXT NOT NULL)"),
            format!("INSERT INTO {search} (shipment_id, terms) SELECT shipment_id, {terms} FROM {table}"),
            format!("CREATE INDEX {search}_terms ON {search} USING gin (terms gin_trgm_ops)"),
        ],
        Dialect::Sqlite => vec![
            format!(
                "CREATE VIRTUAL TABLE {search} \
                 USING fts5(shipment_id UNINDEXED, terms, tokenize = 'trigram')"
            ),
            format!("INSERT INTO {search} (shipment_id, terms) SELECT shipment_id, {terms} FROM {table}"),
        ],
    }
}

/// What a search looks through, as SQL over a board row: the places in lower case and the id,
/// one per line, so a search cannot match across two of them. (SQLite's `lower` folds ASCII
/// only; its trigram index folds case itself.)
pub fn search_terms_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => {
            "lower(origin) || chr(10) || lower(destination) || chr(10) || shipment_id"
        }
        Dialect::Sqlite => {
            "lower(origin) || char(10) || lower(destination) || char(10) || shipment_id"
        }
    }
}

/// Gives a board table its search table, filled from its rows and indexed, unless it has one:
/// a table a rebuild just finished, or one made by an older freightdesk.
pub async fn ensure_search_table(tx: &mut Tx, table: &TableName) -> Result<(), sqlx::Error> {
    if relation_exists(tx, &search_table(table)).await? {
        return Ok(());
    }
    for statement in create_search_sql(table, tx.dialect()) {
        sqlx::query(&statement).execute(&mut **tx).await?;
    }
    Ok(())
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

    /// How long it has been on the road: from pickup to delivery or cancellation, or until
    /// `now` while it is still in transit. None when it was never picked up.
    pub fn time_in_transit(&self, now: DateTime<Utc>) -> Option<i64> {
        let start = self.shipment.picked_up_at?;
        let end = self
            .shipment
            .delivered_at
            .or(self.shipment.cancelled_at)
            .unwrap_or(now);
        Some((end - start).num_seconds().max(0))
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
    search: SearchUpkeep,
    relevant: &[&RecordedEvent],
) -> Result<(), ApplyError> {
    let mut rows = load_rows(tx, table, with_locations, relevant).await?;
    let statuses_before: HashMap<String, ShipmentStatus> = rows
        .iter()
        .map(|(key, row)| (key.clone(), row.shipment.status))
        .collect();
    // Changed rows in the order first touched, so writes are deterministic.
    let mut changed: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    // Shipments that have no row yet: they get their search row too.
    let mut fresh: Vec<String> = Vec::new();
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
                if current.is_none() {
                    fresh.push(key.clone());
                }
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
    let mut moves = StatusMoves::default();
    for key in &changed {
        if let Some(row) = rows.get(key) {
            moves.record(statuses_before.get(key).copied(), row.shipment.status);
        }
    }
    let changed: Vec<&BoardRow> = changed.iter().filter_map(|key| rows.get(key)).collect();
    upsert(tx, table, with_locations, &changed).await?;
    board_counts::apply(tx, table, &moves).await?;
    if search == SearchUpkeep::RowByRow {
        insert_search_rows(tx, table, &fresh).await?;
    }
    Ok(())
}

/// When a board table's search rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchUpkeep {
    /// With each batch: the table serves reads.
    RowByRow,
    /// All at once when the table is complete (`ensure_search_table`): a rebuild's table.
    AtTheEnd,
}

async fn load_rows(
    tx: &mut Tx,
    table: &TableName,
    with_locations: bool,
    events: &[&RecordedEvent],
) -> Result<HashMap<String, BoardRow>, ApplyError> {
    let mut ids: Vec<String> = events.iter().map(|e| e.stream_id.to_string()).collect();
    ids.sort();
    ids.dedup();
    let sql = format!(
        "SELECT * FROM {table} WHERE {}",
        json_strings_contain(tx.dialect(), "shipment_id")
    );
    let ids = serde_json::to_string(&ids).map_err(|e| ApplyError::Database(encode_error(e)))?;
    let mut rows = HashMap::new();
    for row in sqlx::query(&sql).bind(ids).fetch_all(&mut **tx).await? {
        let row = row_from_sql(&row, with_locations)?;
        rows.insert(row.shipment.id.to_string(), row);
    }
    Ok(rows)
}

/// The search rows of shipments that just got their board row, from those rows.
async fn insert_search_rows(
    tx: &mut Tx,
    table: &TableName,
    fresh: &[String],
) -> Result<(), sqlx::Error> {
    if fresh.is_empty() {
        return Ok(());
    }
    let search = search_table(table);
    let dialect = tx.dialect();
    let conflict = match dialect {
        Dialect::Postgres => " ON CONFLICT (shipment_id) DO NOTHING",
        // A shipment gets its row once (in the transaction that creates its board row); FTS5
        // tables take no ON CONFLICT.
        Dialect::Sqlite => "",
    };
    let sql = format!(
        "INSERT INTO {search} (shipment_id, terms) SELECT shipment_id, {} FROM {table}
         WHERE {}{conflict}",
        search_terms_sql(dialect),
        json_strings_contain(dialect, "shipment_id")
    );
    let ids = serde_json::to_string(fresh).map_err(encode_error)?;
    sqlx::query(&sql).bind(ids).execute(&mut **tx).await?;
    Ok(())
}

/// A board row as `select_json_rows` reads it: keys are the columns, times their stored text.
#[derive(Serialize)]
struct RowJson<'a> {
    shipment_id: String,
    origin: &'a str,
    destination: &'a str,
    status: &'static str,
    scheduled_at: String,
    picked_up_at: Option<String>,
    delivered_at: Option<String>,
    cancelled_at: Option<String>,
    cancel_reason: Option<&'a str>,
    version: i64,
    updated_at: String,
    last_location: Option<&'a str>,
    last_location_at: Option<String>,
    location_count: i64,
    transit_seconds: Option<i64>,
}

impl<'a> RowJson<'a> {
    fn of(row: &'a BoardRow) -> Self {
        let s = &row.shipment;
        Self {
            shipment_id: s.id.to_string(),
            origin: &s.origin,
            destination: &s.destination,
            status: s.status.as_str(),
            scheduled_at: time_text(s.scheduled_at),
            picked_up_at: s.picked_up_at.map(time_text),
            delivered_at: s.delivered_at.map(time_text),
            cancelled_at: s.cancelled_at.map(time_text),
            cancel_reason: s.cancel_reason.as_deref(),
            version: row.version,
            updated_at: time_text(row.updated_at),
            last_location: s.last_location.as_deref(),
            last_location_at: s.last_location_at.map(time_text),
            location_count: i64::from(s.location_count),
            transit_seconds: row.transit_seconds(),
        }
    }
}

/// Inserts or replaces the rows with one statement, the rows passed as one JSON parameter.
async fn upsert(
    tx: &mut Tx,
    table: &TableName,
    with_locations: bool,
    rows: &[&BoardRow],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut columns = vec!["shipment_id"];
    columns.extend(SHARED_COLUMNS);
    columns.push("updated_at");
    if with_locations {
        columns.extend(LOCATION_COLUMNS);
    }
    let updates: Vec<String> = columns[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({}) {} ON CONFLICT (shipment_id) DO UPDATE SET {}",
        columns.join(", "),
        select_json_rows(tx.dialect(), table, &columns),
        updates.join(", ")
    );
    let json: Vec<RowJson> = rows.iter().map(|r| RowJson::of(r)).collect();
    let json = serde_json::to_string(&json).map_err(encode_error)?;
    sqlx::query(&sql).bind(json).execute(&mut **tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0).unwrap())
    }

    #[test]
    fn time_in_transit_runs_until_delivery_or_now() {
        let now = at(12).unwrap();
        // (picked up, delivered, cancelled, want)
        let cases = [
            (None, None, None, None),
            (at(8), None, None, Some(4 * 3600)),
            (at(8), at(10), None, Some(2 * 3600)),
            (at(8), None, at(9), Some(3600)),
        ];
        for (picked_up_at, delivered_at, cancelled_at, want) in cases {
            let row = BoardRow {
                shipment: Shipment {
                    id: ShipmentId::generate(),
                    origin: "A".into(),
                    destination: "B".into(),
                    status: ShipmentStatus::InTransit,
                    scheduled_at: now,
                    picked_up_at,
                    delivered_at,
                    cancelled_at,
                    cancel_reason: None,
                    last_location: None,
                    last_location_at: None,
                    location_count: 0,
                },
                version: 2,
                updated_at: now,
            };
            assert_eq!(row.time_in_transit(now), want, "{picked_up_at:?}");
        }
    }
}
