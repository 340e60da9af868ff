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
    /// The row's own places and id, tested on the first `walk` rows of the page's order (read
    /// from its index), enough to hold the page's matches about twice over at their density.
    OwnRow { walk: i64 },
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
    let scope = counts.shipments(query.status);
    let (total, text_match) = match query.search.as_deref() {
        None => (scope, TextMatch::SearchIndex),
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
            let own_row_works = db.dialect() == Dialect::Postgres || term.is_ascii();
            let text_match = match rows_to_read_in_order(wanted, scope, in_scope) {
                Some(walk) if own_row_works && walk < all => TextMatch::OwnRow { walk },
                _ => TextMatch::SearchIndex,
            };
            (in_scope, text_match)
        }
    };

    // Reading backwards (towards the start) runs the order the other way, then flips.
    let backwards = matches!(query.cursor, Some(Cursor::Before(_)));
    let mut rows = read_rows(db, &def, &table, query, text_match, offset).await?;
    let read_part = matches!(text_match, TextMatch::OwnRow { walk } if walk < scope);
    if read_part && rows.len() as i64 <= BOARD_PAGE_SIZE {
        // Fewer matches than a page and one in the part read in order: the rest may lie
        // further on (or there are no more). The search index tells for sure.
        rows = read_rows(db, &def, &table, query, TextMatch::SearchIndex, offset).await?;
    }
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

/// How many rows to read in the page's order to find `wanted` matches among `scope` rows of
/// which `in_scope` match: twice the expected number, and some, so that matches unevenly
/// spread still fill the page (when they do not, the search index answers instead). None when
/// nothing matches. Reading in order is chosen when this is fewer than the matches the search
/// index would hand over.
fn rows_to_read_in_order(wanted: i64, scope: i64, in_scope: i64) -> Option<i64> {
    if in_scope == 0 {
        return None;
    }
    let expected = wanted as f64 * scope as f64 / in_scope as f64;
    Some((2.0 * expected) as i64 + 100)
}

/// The page's rows (and one more, to tell whether there are more), read as `text_match` says.
async fn read_rows(
    db: &PortableDb,
    def: &Definition,
    table: &TableName,
    query: &BoardQuery,
    text_match: TextMatch,
    offset: i64,
) -> Result<Vec<BoardRow>, QueryError> {
    let backwards = matches!(query.cursor, Some(Cursor::Before(_)));
    let order = if backwards != query.sort.descending {
        "DESC"
    } else {
        "ASC"
    };
    let column = query.sort.column.column();
    let order_by = format!(" ORDER BY {column} {order}, shipment_id {order}");
    let mut sql = SqlBuilder::new("SELECT * FROM ");
    match text_match {
        TextMatch::SearchIndex => {
            sql.push(table.as_str());
            push_filters(&mut sql, query, table, db.dialect(), Some(text_match));
        }
        TextMatch::OwnRow { walk } => {
            // The inner read follows the order's index (a LIMIT ends it early); the planner
            // cannot see that the test on the places lets one row in four through and would
            // rather scan the whole table.
            sql.push(format_args!("(SELECT * FROM {table}"));
            push_filters(&mut sql, query, table, db.dialect(), None);
            sql.push(&order_by)
                .push(" LIMIT ")
                .push_bind(walk)
                .push(format_args!(
                    ") AS walked WHERE ({}) LIKE ",
                    board::search_terms_sql(db.dialect())
                ))
                .push_bind(like_pattern(query.search.as_deref().unwrap_or_default()))
                .push(" ESCAPE '\\'");
        }
    }
    sql.push(&order_by)
        .push(" LIMIT ")
        // One row more than a page tells whether there is more in the direction of reading.
        .push_bind(BOARD_PAGE_SIZE + 1)
        .push(" OFFSET ")
        .push_bind(offset);
    let (sql, args) = sql.build();
    Ok(sqlx::query_with(&sql, args)
        .fetch_all(db.read())
        .await?
        .iter()
        .map(|r| row_from_sql(r, def.tracks_locations()))
        .collect::<Result<_, _>>()?)
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
        Some(TextMatch::SearchIndex),
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

/// `WHERE …` for the query's status, search (through the search table, unless `search` is
/// None: the caller tests the rows itself) and cursor, or nothing.
fn push_filters(
    sql: &mut SqlBuilder<'_>,
    query: &BoardQuery,
    table: &TableName,
    dialect: Dialect,
    search: Option<TextMatch>,
) {
    let mut glue = " WHERE ";
    if let Some(status) = query.status {
        sql.push(glue).push("status = ").push_bind(status.as_str());
        glue = " AND ";
    }
    if let (Some(search), Some(_)) = (query.search.as_deref(), search) {
        sql.push(glue);
        glue = " AND ";
        if let Ok(id) = ShipmentId::parse(search) {
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
    fn a_common_term_reads_a_few_rows_in_order_and_a_rare_one_too_many() {
        // A city on a quarter of 100,000 shipments: about 204 rows expected, 508 read, where
        // the index would hand over 25,000.
        assert_eq!(rows_to_read_in_order(51, 100_000, 25_000), Some(508));
        // An id fragment on one shipment: the whole board twice over.
        assert!(rows_to_read_in_order(51, 100_000, 1).unwrap() > 100_000);
        // No match at all: the index says so at once.
        assert_eq!(rows_to_read_in_order(51, 100_000, 0), None);
        // Deep pages read further in order.
        assert!(rows_to_read_in_order(40_001, 100_000, 25_000).unwrap() > 25_000);
    }
}
