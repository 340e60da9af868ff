//! Reads served from the live version of each projection: the board (what a board query
//! asks for is parsed in `board_query`) and the daily counts.

mod board_query;

pub use board_query::{BoardQuery, Cursor, CursorKey, RawBoardQuery, BOARD_PAGE_SIZE};

use super::board::{self, row_from_sql, BoardRow};
use super::definition::{DAILY_SHIPMENTS, SHIPMENT_BOARD};
pub use super::sort::{BoardSort, SortColumn};
use super::{versions, DayCounts, Definition};
use crate::db::{col, Dialect, PortableDb, SqlBuilder, TableName};
use crate::domain::ShipmentId;
use chrono::NaiveDate;

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
    #[error("no version of {0} is live")]
    NoLiveVersion(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

async fn live(db: &PortableDb, name: &'static str) -> Result<(Definition, TableName), QueryError> {
    versions::live(db, name)
        .await?
        .ok_or(QueryError::NoLiveVersion(name))
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

/// The condition on a board's search table (see `board::search_table`) for a search.
fn push_search_match(sql: &mut SqlBuilder<'_>, search: &str, search_table: &str, dialect: Dialect) {
    match dialect {
        // FTS5's trigram index finds a phrase of three or more characters anywhere.
        Dialect::Sqlite if search.chars().count() >= 3 => {
            let phrase = format!("\"{}\"", search.to_lowercase().replace('"', "\"\""));
            sql.push(format_args!("{search_table} MATCH "))
                .push_bind(phrase);
        }
        _ => {
            sql.push("terms LIKE ")
                .push_bind(like_pattern(search))
                .push(" ESCAPE '\\'");
        }
    }
}

/// `WHERE …` for the query's filters (not its cursor), or nothing. A search looks through the
/// table's search index (see `board::search_table`).
fn push_filters(sql: &mut SqlBuilder<'_>, query: &BoardQuery, table: &TableName, dialect: Dialect) {
    let mut glue = " WHERE ";
    if let Some(status) = query.status {
        sql.push(glue).push("status = ").push_bind(status.as_str());
        glue = " AND ";
    }
    if let Some(search) = query.search.as_deref() {
        sql.push(glue);
        glue = " AND ";
        if let Ok(id) = ShipmentId::parse(search) {
            // A whole id (pasted from somewhere): a key lookup, not a scan.
            sql.push("shipment_id = ").push_bind(id.to_string());
        } else {
            let search_table = board::search_table(table);
            sql.push(format_args!(
                "shipment_id IN (SELECT shipment_id FROM {search_table} WHERE "
            ));
            push_search_match(sql, search, &search_table, dialect);
            sql.push(")");
        }
    }
    if let Some(cursor) = &query.cursor {
        // In a descending order "after" a row means smaller than it; ascending, larger.
        let (key, after) = match cursor {
            Cursor::After(key) => (key, true),
            Cursor::Before(key) => (key, false),
        };
        let operator = if after == query.sort.descending {
            "<"
        } else {
            ">"
        };
        sql.push(glue)
            .push(format_args!(
                "({}, shipment_id) ",
                query.sort.column.column()
            ))
            .push(operator)
            .push(" (")
            .push_bind(key.value.clone())
            .push(", ")
            .push_bind(key.id.clone())
            .push(")");
    }
}

/// A read of the live version's table, retried once if that table was not there: a rebuild
/// that finishes swaps the live table and drops the old one, and a read caught between the
/// catalog lookup and its query meets "undefined table". Any other error is the answer.
async fn retried_if_swapped<T, F, Fut>(read: F) -> Result<T, QueryError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, QueryError>>,
{
    match read().await {
        Err(e) if is_undefined_table(&e) => read().await,
        result => result,
    }
}

/// PostgreSQL's `undefined_table` (42P01), or SQLite's "no such table".
fn is_undefined_table(e: &QueryError) -> bool {
    match e {
        QueryError::Database(sqlx::Error::Database(e)) => {
            e.code().as_deref() == Some("42P01") || e.message().starts_with("no such table")
        }
        _ => false,
    }
}

/// The board page for a query, from the live version (see `retried_if_swapped`).
#[tracing::instrument(skip(db))]
pub async fn board(db: &PortableDb, query: &BoardQuery) -> Result<BoardPage, QueryError> {
    retried_if_swapped(|| board_once(db, query)).await
}

async fn board_once(db: &PortableDb, query: &BoardQuery) -> Result<BoardPage, QueryError> {
    let (def, table) = live(db, SHIPMENT_BOARD).await?;
    let uncursored = BoardQuery {
        cursor: None,
        ..query.clone()
    };
    let count = match (query.status, query.search.as_deref()) {
        // Only a search: its matches are counted in the search table alone, without reading
        // the board rows.
        (None, Some(search)) if ShipmentId::parse(search).is_err() => {
            let search_table = board::search_table(&table);
            let mut count =
                SqlBuilder::new(format!("SELECT COUNT(*) AS n FROM {search_table} WHERE "));
            push_search_match(&mut count, search, &search_table, db.dialect());
            count
        }
        _ => {
            let mut count = SqlBuilder::new(format!("SELECT COUNT(*) AS n FROM {table}"));
            push_filters(&mut count, &uncursored, &table, db.dialect());
            count
        }
    };
    let (sql, args) = count.build();
    let total: i64 = col(
        &sqlx::query_with(&sql, args).fetch_one(db.read()).await?,
        "n",
    )?;

    let page = query.page.max(1);
    // Reading backwards (towards the start) runs the order the other way, then flips.
    let backwards = matches!(query.cursor, Some(Cursor::Before(_)));
    let order = if backwards != query.sort.descending {
        "DESC"
    } else {
        "ASC"
    };
    let column = query.sort.column.column();
    let offset = match query.cursor {
        None => (page - 1) * BOARD_PAGE_SIZE,
        Some(_) => 0,
    };
    let mut rows = SqlBuilder::new(format!("SELECT * FROM {table}"));
    push_filters(&mut rows, query, &table, db.dialect());
    rows.push(format_args!(
        " ORDER BY {column} {order}, shipment_id {order} LIMIT "
    ))
    // One row more than a page tells whether there is more in the direction of reading.
    .push_bind(BOARD_PAGE_SIZE + 1)
    .push(" OFFSET ")
    .push_bind(offset);
    let (sql, args) = rows.build();
    let mut rows: Vec<BoardRow> = sqlx::query_with(&sql, args)
        .fetch_all(db.read())
        .await?
        .iter()
        .map(|r| row_from_sql(r, def.tracks_locations()))
        .collect::<Result<_, _>>()?;
    let more = rows.len() as i64 > BOARD_PAGE_SIZE;
    rows.truncate(BOARD_PAGE_SIZE as usize);
    let (has_previous, has_next) = match &query.cursor {
        None => (offset > 0, more),
        // Coming from a row of the next page: that page still exists.
        Some(Cursor::Before(_)) => (more, true),
        Some(Cursor::After(_)) => (true, more),
    };
    if backwards {
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
pub async fn board_rows(db: &PortableDb, def: Definition) -> Result<Vec<BoardRow>, QueryError> {
    let table = versions::load(db, def).await?.physical_table;
    Ok(
        sqlx::query(&format!("SELECT * FROM {table} ORDER BY shipment_id"))
            .fetch_all(db.read())
            .await?
            .iter()
            .map(|r| row_from_sql(r, def.tracks_locations()))
            .collect::<Result<_, _>>()?,
    )
}

/// The most recent `days` days that have any activity, newest first.
pub async fn daily(
    db: &PortableDb,
    days: i64,
) -> Result<(Definition, Vec<(String, DayCounts)>), QueryError> {
    retried_if_swapped(|| daily_once(db, days)).await
}

async fn daily_once(
    db: &PortableDb,
    days: i64,
) -> Result<(Definition, Vec<(String, DayCounts)>), QueryError> {
    let (def, table) = live(db, DAILY_SHIPMENTS).await?;
    let rows = sqlx::query(&format!("SELECT * FROM {table} ORDER BY day DESC LIMIT $1"))
        .bind(days)
        .fetch_all(db.read())
        .await?;
    let days = rows
        .iter()
        .map(|r| Ok((col(r, "day")?, day_counts(r)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((def, days))
}

/// The `days` calendar days up to and including `today` (UTC), newest first, each with its
/// counts: a day without activity is there with zeros, so a chart's days are evenly spaced.
pub async fn daily_calendar(
    db: &PortableDb,
    today: NaiveDate,
    days: u32,
) -> Result<(Definition, Vec<(String, DayCounts)>), QueryError> {
    retried_if_swapped(|| daily_calendar_once(db, today, days)).await
}

async fn daily_calendar_once(
    db: &PortableDb,
    today: NaiveDate,
    days: u32,
) -> Result<(Definition, Vec<(String, DayCounts)>), QueryError> {
    let (def, table) = live(db, DAILY_SHIPMENTS).await?;
    let calendar = calendar_days(today, days);
    let (Some(newest), Some(oldest)) = (calendar.first(), calendar.last()) else {
        return Ok((def, Vec::new()));
    };
    let rows = sqlx::query(&format!(
        "SELECT * FROM {table} WHERE day >= $1 AND day <= $2"
    ))
    .bind(oldest.clone())
    .bind(newest.clone())
    .fetch_all(db.read())
    .await?;
    let mut counted = std::collections::HashMap::new();
    for r in &rows {
        counted.insert(col::<String>(r, "day")?, day_counts(r)?);
    }
    let filled = calendar
        .into_iter()
        .map(|day| {
            let counts = counted.get(&day).copied().unwrap_or_default();
            (day, counts)
        })
        .collect();
    Ok((def, filled))
}

fn day_counts(r: &sqlx::any::AnyRow) -> Result<DayCounts, sqlx::Error> {
    Ok(DayCounts {
        scheduled: col(r, "scheduled")?,
        picked_up: col(r, "picked_up")?,
        delivered: col(r, "delivered")?,
        cancelled: col(r, "cancelled")?,
    })
}

/// `days` days as the daily table writes them (`2026-11-29`), from `today` back, newest first.
fn calendar_days(today: NaiveDate, days: u32) -> Vec<String> {
    today
        .iter_days()
        .rev()
        .take(days as usize)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_days_count_back_from_today_across_months_and_years() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let cases: [(&str, u32, &[&str]); 4] = [
            ("2026-11-29", 0, &[]),
            ("2026-11-29", 1, &["2026-11-29"]),
            ("2026-03-01", 3, &["2026-03-01", "2026-02-28", "2026-02-27"]),
            ("2027-01-01", 2, &["2027-01-01", "2026-12-31"]),
        ];
        for (today, n, want) in cases {
            assert_eq!(calendar_days(day(today), n), want, "{today} {n}");
        }
        assert_eq!(calendar_days(day("2026-11-29"), 30).len(), 30);
    }

    #[test]
    fn search_wildcards_are_literal() {
        assert_eq!(like_pattern("Ro%t_"), "%ro\\%t\\_%");
    }
}
