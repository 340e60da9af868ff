//! Reads served from the live version of each projection.

use super::board::{row_from_sql, BoardRow};
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
    /// 1-based.
    pub page: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BoardPage {
    pub served_by: Definition,
    pub rows: Vec<BoardRow>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
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

#[tracing::instrument(skip(db))]
pub async fn board(db: &ProjectionDb, query: &BoardQuery) -> Result<BoardPage, QueryError> {
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
        args.push(like_pattern(search));
        let n = args.len();
        conditions.push(format!(
            "(lower(origin) LIKE ${n} ESCAPE '\\' OR lower(destination) LIKE ${n} ESCAPE '\\' OR shipment_id LIKE ${n} ESCAPE '\\')"
        ));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };

    let count_sql = format!("SELECT COUNT(*) AS n FROM {table} {filter}");
    let mut count = sqlx::query(&count_sql);
    for arg in &args {
        count = count.bind(arg.clone());
    }
    let total: i64 = col(&count.fetch_one(&db.pool).await?, "n")?;

    let page = query.page.max(1);
    let rows_sql = format!(
        "SELECT * FROM {table} {filter} ORDER BY scheduled_at DESC, shipment_id LIMIT ${} OFFSET ${}",
        args.len() + 1,
        args.len() + 2
    );
    let mut rows = sqlx::query(&rows_sql);
    for arg in &args {
        rows = rows.bind(arg.clone());
    }
    let with_locations = def == Definition::ShipmentBoardV2;
    let rows = rows
        .bind(BOARD_PAGE_SIZE)
        .bind((page - 1) * BOARD_PAGE_SIZE)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| row_from_sql(r, with_locations))
        .collect::<Result<_, _>>()?;
    Ok(BoardPage {
        served_by: def,
        rows,
        total,
        page,
        page_size: BOARD_PAGE_SIZE,
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
