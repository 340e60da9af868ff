//! Reads served from the live version of each projection.

use super::board::{row_from_sql, BoardRow, SHARED_COLUMNS};
use super::catalog;
use super::db::{checked_table_name, col, ProjectionDb};
use super::{DayCounts, Definition};
use crate::domain::ShipmentStatus;

pub const BOARD_PAGE_SIZE: i64 = 50;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoardQuery {
    pub status: Option<ShipmentStatus>,
    /// Matches origin, destination or shipment id, case-insensitively.
    pub search: Option<String>,
    /// 1-based. Without a cursor it picks the rows by offset; with one it is only the number
    /// shown to the reader.
    pub page: i64,
    /// Where the page starts, relative to a row of the page next to it: pages reached by
    /// "next" and "previous" cost the same however deep they are.
    pub cursor: Option<Cursor>,
}

impl BoardQuery {
    /// A page of the whole board, unfiltered.
    pub fn page(page: i64) -> Self {
        Self {
            page,
            ..Self::default()
        }
    }
}

/// A position in the board's order (planned pickup, newest first; then id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// The rows after this one.
    After(String),
    /// The rows before this one.
    Before(String),
}

impl Cursor {
    /// `time|id` of a row, as links carry it.
    pub fn of(row: &BoardRow) -> String {
        format!(
            "{}|{}",
            crate::store::time_text(row.shipment.scheduled_at),
            row.shipment.id
        )
    }

    /// The position in the form the table stores, whatever form the link wrote it in.
    fn parts(key: &str) -> Option<(String, String)> {
        let (time, id) = key.split_once('|')?;
        let time = crate::store::time_text(crate::store::parse_time(time).ok()?);
        let id = crate::domain::ShipmentId::parse(id).ok()?.to_string();
        Some((time, id))
    }

    /// Checks a cursor that came from a link.
    pub fn is_valid(key: &str) -> bool {
        Self::parts(key).is_some()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BoardPage {
    pub served_by: Definition,
    pub rows: Vec<BoardRow>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    /// Whether rows follow this page (and precede it), in the board's order as it is now.
    pub has_next: bool,
    pub has_previous: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("not a board position")]
    BadCursor,
    #[error("no version of {0} is live")]
    NoLiveVersion(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

async fn live(db: &ProjectionDb, name: &'static str) -> Result<(Definition, String), QueryError> {
    let (version, table) = catalog::live(db, name)
        .await?
        .ok_or(QueryError::NoLiveVersion(name))?;
    let def = Definition::find(name, version).ok_or(QueryError::NoLiveVersion(name))?;
    Ok((def, table))
}

/// `%text%` for LIKE, with the user's own wildcards taken literally.
fn like_pattern(search: &str) -> String {
    let escaped = search
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The board page for a query, from the live version. A rebuild that finishes swaps the live
/// table and drops the old one; a read caught between the lookup and the query is retried once.
#[tracing::instrument(skip(db))]
pub async fn board(db: &ProjectionDb, query: &BoardQuery) -> Result<BoardPage, QueryError> {
    match board_once(db, query).await {
        Err(QueryError::Database(sqlx::Error::Database(_))) => board_once(db, query).await,
        result => result,
    }
}

async fn board_once(db: &ProjectionDb, query: &BoardQuery) -> Result<BoardPage, QueryError> {
    let (def, table) = live(db, "shipment_board").await?;
    let table = checked_table_name(&table);
    let mut conditions = Vec::new();
    let mut args: Vec<String> = Vec::new();
    if let Some(status) = query.status {
        args.push(status.as_str().to_string());
        conditions.push(format!("status = ${}", args.len()));
    }
    if let Some(search) = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if let Ok(id) = crate::domain::ShipmentId::parse(search) {
            // A whole id (pasted from somewhere): a key lookup, not a scan.
            args.push(id.to_string());
            conditions.push(format!("shipment_id = ${}", args.len()));
        } else {
            args.push(like_pattern(search));
            let n = args.len();
            conditions.push(format!(
                "(lower(origin) LIKE ${n} ESCAPE '\\' OR lower(destination) LIKE ${n} ESCAPE '\\' OR shipment_id LIKE ${n} ESCAPE '\\')"
            ));
        }
    }
    let count_filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let count_sql = format!("SELECT COUNT(*) AS n FROM {table} {count_filter}");
    let mut count = sqlx::query(&count_sql);
    for arg in &args {
        count = count.bind(arg.clone());
    }
    let total: i64 = col(&count.fetch_one(&db.pool).await?, "n")?;

    let page = query.page.max(1);
    // Newest first. A cursor continues from a row with an index range instead of an offset.
    let (order, offset) = match &query.cursor {
        None => ("DESC", (page - 1) * BOARD_PAGE_SIZE),
        Some(cursor) => {
            let (key, operator, order) = match cursor {
                Cursor::After(key) => (key, "<", "DESC"),
                Cursor::Before(key) => (key, ">", "ASC"),
            };
            let (time, id) = Cursor::parts(key).ok_or(QueryError::BadCursor)?;
            args.push(time);
            args.push(id);
            let (t, i) = (args.len() - 1, args.len());
            conditions.push(format!(
                "(scheduled_at, shipment_id) {operator} (${t}, ${i})"
            ));
            (order, 0)
        }
    };
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let rows_sql = format!(
        "SELECT * FROM {table} {filter} ORDER BY scheduled_at {order}, shipment_id {order} LIMIT ${} OFFSET ${}",
        args.len() + 1,
        args.len() + 2
    );
    let mut rows = sqlx::query(&rows_sql);
    for arg in &args {
        rows = rows.bind(arg.clone());
    }
    let with_locations = def == Definition::ShipmentBoardV2;
    // One row more than a page tells whether there is more in the direction of reading.
    let mut rows: Vec<BoardRow> = rows
        .bind(BOARD_PAGE_SIZE + 1)
        .bind(offset)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| row_from_sql(r, with_locations))
        .collect::<Result<_, _>>()?;
    let more = rows.len() as i64 > BOARD_PAGE_SIZE;
    rows.truncate(BOARD_PAGE_SIZE as usize);
    let (has_previous, has_next) = match &query.cursor {
        None => (offset > 0, more),
        // Coming from a row of the next page: that page still exists.
        Some(Cursor::Before(_)) => (more, true),
        Some(Cursor::After(_)) => (true, more),
    };
    if order == "ASC" {
        rows.reverse();
    }
    Ok(BoardPage {
        served_by: def,
        rows,
        total,
        page,
        page_size: BOARD_PAGE_SIZE,
        has_next,
        has_previous,
    })
}

/// Every row of a board version's table, for checks and diffs.
pub async fn board_rows(db: &ProjectionDb, def: Definition) -> Result<Vec<BoardRow>, QueryError> {
    let row = catalog::load(db, def).await?;
    let table = checked_table_name(&row.physical_table);
    let with_locations = def == Definition::ShipmentBoardV2;
    Ok(
        sqlx::query(&format!("SELECT * FROM {table} ORDER BY shipment_id"))
            .fetch_all(&db.pool)
            .await?
            .iter()
            .map(|r| row_from_sql(r, with_locations))
            .collect::<Result<_, _>>()?,
    )
}

/// The most recent `days` days that have any activity, newest first.
pub async fn daily(
    db: &ProjectionDb,
    days: i64,
) -> Result<(Definition, Vec<(String, DayCounts)>), QueryError> {
    // Retried once for the same reason as `board`.
    match daily_once(db, days).await {
        Err(QueryError::Database(sqlx::Error::Database(_))) => daily_once(db, days).await,
        result => result,
    }
}

async fn daily_once(
    db: &ProjectionDb,
    days: i64,
) -> Result<(Definition, Vec<(String, DayCounts)>), QueryError> {
    let (def, table) = live(db, "daily_shipments").await?;
    let table = checked_table_name(&table);
    let rows = sqlx::query(&format!("SELECT * FROM {table} ORDER BY day DESC LIMIT $1"))
        .bind(days)
        .fetch_all(&db.pool)
        .await?;
    let days = rows
        .iter()
        .map(|r| {
            Ok((
                col(r, "day")?,
                DayCounts {
                    scheduled: col(r, "scheduled")?,
                    picked_up: col(r, "picked_up")?,
                    delivered: col(r, "delivered")?,
                    cancelled: col(r, "cancelled")?,
                },
            ))
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((def, days))
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn search_wildcards_are_literal() {
        assert_eq!(like_pattern("Ro%t_"), "%ro\\%t\\_%");
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldDifference {
    pub shipment_id: String,
    pub field: &'static str,
    pub left: Option<String>,
    pub right: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BoardDiff {
    pub left: Definition,
    pub right: Definition,
    pub left_rows: i64,
    pub right_rows: i64,
    pub only_left: i64,
    pub only_left_samples: Vec<String>,
    pub only_right: i64,
    pub only_right_samples: Vec<String>,
    pub differing: i64,
    pub samples: Vec<FieldDifference>,
}

impl BoardDiff {
    pub fn identical(&self) -> bool {
        self.only_left == 0 && self.only_right == 0 && self.differing == 0
    }
}

const SAMPLES: i64 = 10;

/// Compares two versions of the board row by row: counts, rows present in one only, and
/// sample differences in the columns both have.
pub async fn board_diff(
    db: &ProjectionDb,
    left: Definition,
    right: Definition,
) -> Result<BoardDiff, QueryError> {
    let l = catalog::load(db, left).await?.physical_table;
    let r = catalog::load(db, right).await?.physical_table;
    let (l, r) = (checked_table_name(&l), checked_table_name(&r));
    let count = |table: &str| format!("SELECT COUNT(*) AS n FROM {table}");
    let scalar = |sql: String| async move {
        let row = sqlx::query(&sql).fetch_one(&db.pool).await?;
        col::<i64>(&row, "n")
    };
    let ids = |sql: String| async move {
        let rows = sqlx::query(&sql).bind(SAMPLES).fetch_all(&db.pool).await?;
        rows.iter()
            .map(|row| col::<String>(row, "shipment_id"))
            .collect::<Result<Vec<_>, _>>()
    };
    let only = |a: &str, b: &str| {
        format!(
            "FROM {a} WHERE NOT EXISTS (SELECT 1 FROM {b} WHERE {b}.shipment_id = {a}.shipment_id)"
        )
    };
    let differs = SHARED_COLUMNS
        .iter()
        .map(|c| format!("a.{c} IS DISTINCT FROM b.{c}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let joined = format!("FROM {l} a JOIN {r} b ON a.shipment_id = b.shipment_id WHERE {differs}");
    let selected = SHARED_COLUMNS
        .iter()
        .map(|c| format!("CAST(a.{c} AS TEXT) AS l_{c}, CAST(b.{c} AS TEXT) AS r_{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!(
        "SELECT a.shipment_id AS shipment_id, {selected} {joined} ORDER BY a.shipment_id LIMIT $1"
    ))
    .bind(SAMPLES)
    .fetch_all(&db.pool)
    .await?;
    let mut samples = Vec::new();
    for row in &rows {
        let id: String = col(row, "shipment_id")?;
        for c in SHARED_COLUMNS {
            let (a, b): (Option<String>, Option<String>) =
                (col(row, &format!("l_{c}"))?, col(row, &format!("r_{c}"))?);
            if a != b {
                samples.push(FieldDifference {
                    shipment_id: id.clone(),
                    field: c,
                    left: a,
                    right: b,
                });
            }
        }
    }
    Ok(BoardDiff {
        left,
        right,
        left_rows: scalar(count(l)).await?,
        right_rows: scalar(count(r)).await?,
        only_left: scalar(format!("SELECT COUNT(*) AS n {}", only(l, r))).await?,
        only_left_samples: ids(format!(
            "SELECT shipment_id {} ORDER BY shipment_id LIMIT $1",
            only(l, r)
        ))
        .await?,
        only_right: scalar(format!("SELECT COUNT(*) AS n {}", only(r, l))).await?,
        only_right_samples: ids(format!(
            "SELECT shipment_id {} ORDER BY shipment_id LIMIT $1",
            only(r, l)
        ))
        .await?,
        differing: scalar(format!("SELECT COUNT(*) AS n {joined}")).await?,
        samples,
    })
}
