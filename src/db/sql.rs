//! Building portable SQL: numbered placeholders, checked table names, and many rows as one
//! JSON parameter.

use super::Dialect;
use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments};
use std::fmt;

/// A `SELECT` of the rows in parameter `$1`: a JSON array of objects keyed by the `columns`
/// of `table`. Many rows as one parameter keep the statement text the same whatever their
/// number, so it is prepared once and meets no parameter limit; both databases read JSON in C.
pub fn select_json_rows(dialect: Dialect, table: &TableName, columns: &[&str]) -> String {
    let list = columns.join(", ");
    match dialect {
        // The table's own row type gives every column its type.
        Dialect::Postgres => {
            format!("SELECT {list} FROM json_populate_recordset(NULL::{table}, $1::json)")
        }
        // `WHERE true` keeps a following `ON CONFLICT` from reading as a join constraint.
        Dialect::Sqlite => {
            let values: Vec<String> = columns.iter().map(|c| format!("value ->> '{c}'")).collect();
            format!("SELECT {} FROM json_each($1) WHERE true", values.join(", "))
        }
    }
}

/// `column` is one of the strings in parameter `$1`, a JSON array of strings (see
/// `select_json_rows`). On PostgreSQL the strings become an array first: `= ANY` of an array is
/// an index lookup per string whatever the planner guesses of their number, where `IN` of a
/// set-returning function was planned as a hash join over the whole table.
pub fn json_strings_contain(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::Postgres => {
            format!("{column} = ANY(ARRAY(SELECT json_array_elements_text($1::json)))")
        }
        Dialect::Sqlite => format!("{column} IN (SELECT value FROM json_each($1))"),
    }
}

/// Builds portable SQL with numbered placeholders. sqlx's own `QueryBuilder` writes `?` for
/// the `Any` driver, which PostgreSQL refuses; this one writes `$1, $2, …`, which both accept,
/// and numbers them itself so no statement counts by hand.
pub struct SqlBuilder<'q> {
    sql: String,
    args: AnyArguments<'q>,
    count: usize,
}

impl<'q> Default for SqlBuilder<'q> {
    fn default() -> Self {
        Self::new("")
    }
}

impl<'q> SqlBuilder<'q> {
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            args: AnyArguments::default(),
            count: 0,
        }
    }

    pub fn push(&mut self, sql: impl fmt::Display) -> &mut Self {
        use fmt::Write;
        let _ = write!(self.sql, "{sql}");
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'q + sqlx::Encode<'q, Any> + sqlx::Type<Any>,
    {
        self.count += 1;
        // Encoding into AnyArguments only fails for types Any cannot carry; every type bound
        // here is one it can, and a failure surfaces when the query runs.
        if let Err(e) = self.args.add(value) {
            tracing::error!(error = %e, "cannot bind a query argument");
        }
        let n = self.count;
        self.push(format_args!("${n}"))
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The finished statement with its arguments.
    pub fn build(self) -> (String, AnyArguments<'q>) {
        (self.sql, self.args)
    }
}

/// The name of a table that holds a projection version. Only registered projection names
/// make these, but one read back from the catalog is checked again before it goes into SQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a projection table name: {0:?}")]
pub struct BadTableName(pub String);

impl TableName {
    pub fn parse(name: &str) -> Result<Self, BadTableName> {
        let valid = !name.is_empty()
            && name.len() <= 63
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(Self(name.to_string()))
        } else {
            Err(BadTableName(name.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<BadTableName> for sqlx::Error {
    fn from(e: BadTableName) -> Self {
        sqlx::Error::Decode(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_checked_without_panicking() {
        assert!(TableName::parse("shipment_board_v2_r1700000000000").is_ok());
        for bad in ["", "x; DROP TABLE events", "Board", "1abc", "a-b"] {
            assert!(TableName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut sql = SqlBuilder::new("SELECT * FROM t WHERE a = ");
        sql.push_bind("x".to_string())
            .push(" AND b = ")
            .push_bind(2_i64);
        assert_eq!(sql.sql(), "SELECT * FROM t WHERE a = $1 AND b = $2");
    }
}
