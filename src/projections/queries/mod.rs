//! Reads served from the live version of each projection: the board (`board`; what a board
//! query asks for is parsed in `board_query`) and the daily counts.

mod board;
mod board_query;
mod search_counts;

pub use board::{board, board_rows};
pub use board_query::{BoardQuery, Cursor, CursorKey, RawBoardQuery, BOARD_PAGE_SIZE};
pub use search_counts::SearchCounts;

use super::board::BoardRow;
use super::definition::DAILY_SHIPMENTS;
pub use super::sort::{BoardSort, SortColumn};
use super::{versions, DayCounts, Definition};
use crate::db::{col, PortableDb, TableName};
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
}
