//! The board page, read from the live version's table by its indexes: the total from the
//! kept counts (`board_counts`), a search's matches counted once per change of the shipments
//! it counts (`search_counts`), and the rows from the index of the page's order.
//!
//! A text search finds its rows one of two ways, whichever reads fewer:
//! - through the search table's index: every match, then the page sorted from them. Cheap
//!   for a rare term (an id fragment), costly for a common one (a city on a quarter of the
//!   board means sorting 25,000 rows for 50);
//! - in the page's order, testing each row's own places, until the page is full. Cheap for a
//!   common term (about 4 rows read per row shown at one match in four), costly for a rare one.

use super::board_query::{BoardQuery, Cursor, BOARD_PAGE_SIZE};
use super::search_counts::{CountKey, SearchCounts};
use super::{live, retried_if_swapped, BoardPage, QueryError};
use crate::db::{col, Dialect, PortableDb, SqlBuilder, TableName};
use crate::domain::ShipmentId;
use crate::projections::board::{self, row_from_sql, BoardRow};
use crate::projections::board_counts::{self, BoardCounts};
use crate::projections::definition::SHIPMENT_BOARD;
use crate::projections::{versions, Definition};

/// The board page for a query, from the live version (see `retried_if_swapped`).
#[tracing::instrument(skip(db, remembered))]
pub async fn board(
    db: &PortableDb,
    remembered: &SearchCounts,
    query: &BoardQuery,
) -> Result<BoardPage, QueryError> {
    retried_if_swapped(|| board_once(db, remembered, query)).await
}

/// How the rows of a search are found (see the module's comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextMatch {
    /// `shipment_id IN (matches from the search table)`.
    SearchIndex,
    /// The row's own places and id, tested as the page's order is read.
    OwnRow,
}

async fn board_once(
    db: &PortableDb,
    remembered: &SearchCounts,
    query: &BoardQuery,
) -> Result<BoardPage, QueryError> {
    let (def, table) = live(db, SHIPMENT_BOARD).await?;
    let counts = board_counts::read(db, &table).await?;
    let page = query.page.max(1);
    let offset = match query.cursor {
        None => (page - 1) * BOARD_PAGE_SIZE,
        Some(_) => 0,
    };
    let (total, text_match) = match query.search.as_deref() {
        None => (counts.shipments(query.status), TextMatch::SearchIndex),
        Some(search) if ShipmentId::parse(search).is_ok() => {
            // A whole id (pasted from somewhere): a key lookup.
            (count_rows(db, query, &table).await?, TextMatch::SearchIndex)
        }
        Some(term) => {
            let in_scope = matches(db, remembered, &table, &counts, query, term).await?;
            let all = if query.status.is_some() {
                let everywhere = BoardQuery {
                    status: None,
                    ..query.clone()
                };
                matches(db, remembered, &table, &counts, &everywhere, term).await?
            } else {
                in_scope
            };
            let wanted = offset + BOARD_PAGE_SIZE + 1;
            let scope = counts.shipments(query.status);
            let own_row_works = db.dialect() == Dialect::Postgres || term.is_ascii();
            let text_match = if own_row_works && reads_fewer_in_order(wanted, scope, in_scope, all)
            {
                TextMatch::OwnRow
            } else {
                TextMatch::SearchIndex
            };
            (in_scope, text_match)
        }
    };

    // Reading backwards (towards the start) runs the order the other way, then flips.
    let backwards = matches!(query.cursor, Some(Cursor::Before(_)));
    let order = if backwards != query.sort.descending {
        "DESC"
    } else {
        "ASC"
    };
    let column = query.sort.column.column();
    let mut rows = SqlBuilder::new(format!("SELECT * FROM {table}"));
    push_filters(&mut rows, query, &table, db.dialect(), text_match);
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

/// Whether reading the page's order and testing each row reads fewer rows than taking every
/// match from the search index. In order, about `wanted × scope ÷ in_scope` rows are read to
/// find `wanted` matches among `scope` rows of which `in_scope` match (all of them when none
/// do); the index hands over `all` matches of the term before any status filter.
fn reads_fewer_in_order(wanted: i64, scope: i64, in_scope: i64, all: i64) -> bool {
    let read_in_order = if in_scope == 0 {
        scope as f64
    } else {
        (wanted as f64 * scope as f64 / in_scope as f64).min(scope as f64)
    };
    read_in_order < all as f64
}

/// Matches of a text search among the shipments the query's status filter leaves, counted in
/// the search table, or as remembered since the last change of those shipments.
async fn matches(
    db: &PortableDb,
    remembered: &SearchCounts,
    table: &TableName,
    counts: &BoardCounts,
    query: &BoardQuery,
    term: &str,
) -> Result<i64, QueryError> {
    let key = CountKey {
        table: table.to_string(),
        status: query.status,
        term: term.to_lowercase(),
    };
    let stamp = counts.membership_stamp(query.status);
    if let Some(matches) = remembered.get(&key, stamp) {
        return Ok(matches);
    }
    let matches = match query.status {
        // The search table alone, without reading the board rows.
        None => {
            let search_table = board::search_table(table);
            let mut count =
                SqlBuilder::new(format!("SELECT COUNT(*) AS n FROM {search_table} WHERE "));
            push_search_match(&mut count, term, &search_table, db.dialect());
            fetch_count(db, count).await?
        }
        Some(_) => count_rows(db, query, table).await?,
    };
    remembered.remember(key, stamp, matches);
    Ok(matches)
}

/// `COUNT(*)` of the board rows the query's filters (not its cursor) leave.
async fn count_rows(
    db: &PortableDb,
    query: &BoardQuery,
    table: &TableName,
) -> Result<i64, QueryError> {
    let uncursored = BoardQuery {
        cursor: None,
        ..query.clone()
    };
    let mut count = SqlBuilder::new(format!("SELECT COUNT(*) AS n FROM {table}"));
    push_filters(
        &mut count,
        &uncursored,
        table,
        db.dialect(),
        TextMatch::SearchIndex,
    );
    fetch_count(db, count).await
}

async fn fetch_count(db: &PortableDb, count: SqlBuilder<'_>) -> Result<i64, QueryError> {
    let (sql, args) = count.build();
    Ok(col(
        &sqlx::query_with(&sql, args).fetch_one(db.read()).await?,
        "n",
    )?)
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

/// `WHERE …` for the query's filters and cursor, or nothing.
fn push_filters(
    sql: &mut SqlBuilder<'_>,
    query: &BoardQuery,
    table: &TableName,
    dialect: Dialect,
    text_match: TextMatch,
) {
    let mut glue = " WHERE ";
    if let Some(status) = query.status {
        sql.push(glue).push("status = ").push_bind(status.as_str());
        glue = " AND ";
    }
    if let Some(search) = query.search.as_deref() {
        sql.push(glue);
        glue = " AND ";
        if let Ok(id) = ShipmentId::parse(search) {
            sql.push("shipment_id = ").push_bind(id.to_string());
        } else if text_match == TextMatch::OwnRow {
            // The same text the search table holds, made from the row itself. (SQLite's LIKE
            // folds ASCII only: the caller reads this way there only for ASCII terms.)
            sql.push(format_args!("({}) LIKE ", board::search_terms_sql(dialect)))
                .push_bind(like_pattern(search))
                .push(" ESCAPE '\\'");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_wildcards_are_literal() {
        assert_eq!(like_pattern("Ro%t_"), "%ro\\%t\\_%");
    }

    #[test]
    fn a_common_term_is_read_in_order_and_a_rare_one_from_the_index() {
        // A city on a quarter of 100,000 shipments: about 204 rows in order, 25,000 by index.
        assert!(reads_fewer_in_order(51, 100_000, 25_000, 25_000));
        // An id fragment on one shipment.
        assert!(!reads_fewer_in_order(51, 100_000, 1, 1));
        // No match at all: the index says so at once.
        assert!(!reads_fewer_in_order(51, 100_000, 0, 0));
        // A common term under a rare status: few rows of the status match, and the index would
        // hand over every match of the term first.
        assert!(reads_fewer_in_order(51, 2_000, 500, 25_000));
        // Deep pages read further in order.
        assert!(!reads_fewer_in_order(40_001, 100_000, 25_000, 25_000));
    }
}
