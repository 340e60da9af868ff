//! Rows of the portable tables, moved and compared column by column. Both dialects store these
//! tables with the same three column types (TEXT, BIGINT, DOUBLE PRECISION); the target's
//! catalog says which each column is, so a NULL is bound with its column's type.

use crate::db::{PortableDb, TableName, Tx};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::HashMap;

/// One value of a portable table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(Option<String>),
    Integer(Option<i64>),
    Real(Option<f64>),
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Text(Some(t)) => write!(f, "{t:?}"),
            Cell::Integer(Some(i)) => write!(f, "{i}"),
            Cell::Real(Some(r)) => write!(f, "{r}"),
            _ => f.write_str("NULL"),
        }
    }
}

/// A column's name and the type its values are read and bound as.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    kind: ColumnKind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ColumnKind {
    Text,
    Integer,
    Real,
}

/// The columns of `table` on the PostgreSQL target, in their order.
pub async fn columns_of(
    target: &PortableDb,
    table: &TableName,
) -> Result<Vec<Column>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table.to_string())
    .fetch_all(target.read())
    .await?;
    if rows.is_empty() {
        return Err(sqlx::Error::Protocol(format!(
            "the target has no table {table}"
        )));
    }
    rows.into_iter()
        .map(|(name, data_type)| {
            let kind = match data_type.as_str() {
                "text" => ColumnKind::Text,
                "bigint" | "integer" => ColumnKind::Integer,
                "double precision" => ColumnKind::Real,
                other => {
                    return Err(sqlx::Error::Protocol(format!(
                        "{table}.{name} is of type {other}, which a move does not know"
                    )))
                }
            };
            Ok(Column { name, kind })
        })
        .collect()
}

fn cells(row: &AnyRow, columns: &[Column]) -> Result<Vec<Cell>, sqlx::Error> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(match c.kind {
                ColumnKind::Text => Cell::Text(row.try_get(i)?),
                ColumnKind::Integer => Cell::Integer(row.try_get(i)?),
                ColumnKind::Real => Cell::Real(row.try_get(i)?),
            })
        })
        .collect()
}

fn column_list(columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every row of `table` on `db`, as cells of `columns`.
pub async fn read_rows(
    db: &PortableDb,
    table: &TableName,
    columns: &[Column],
) -> Result<Vec<Vec<Cell>>, sqlx::Error> {
    let sql = format!("SELECT {} FROM {table}", column_list(columns));
    let rows = sqlx::query(&sql).fetch_all(db.read()).await?;
    rows.iter().map(|r| cells(r, columns)).collect()
}

/// Rows per INSERT: a few thousand parameters at most.
const ROWS_PER_INSERT: usize = 200;

/// Inserts `rows` into `table` inside the caller's transaction.
pub async fn insert_rows(
    tx: &mut Tx,
    table: &TableName,
    columns: &[Column],
    rows: &[Vec<Cell>],
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        // Numbered placeholders: what the portable SQL uses on both dialects.
        let width = columns.len();
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let row: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
                format!("({})", row.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}",
            column_list(columns),
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for cell in chunk.iter().flatten() {
            query = match cell.clone() {
                Cell::Text(v) => query.bind(v),
                Cell::Integer(v) => query.bind(v),
                Cell::Real(v) => query.bind(v),
            };
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// How two tables' rows differ, keyed by their first column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableDiff {
    pub rows: usize,
    pub only_source: Vec<String>,
    pub only_target: Vec<String>,
    /// (key, column, source value, target value)
    pub differing: Vec<(String, String, String, String)>,
}

impl TableDiff {
    pub fn is_equal(&self) -> bool {
        self.only_source.is_empty() && self.only_target.is_empty() && self.differing.is_empty()
    }
}

/// Compares every row of `table` on both sides, keyed by the first column. Holds the source's
/// rows in memory (a read model: one row per shipment or day).
pub async fn compare(
    source: &PortableDb,
    target: &PortableDb,
    table: &TableName,
    columns: &[Column],
) -> Result<TableDiff, sqlx::Error> {
    let key = |row: &[Cell]| row.first().map(ToString::to_string).unwrap_or_default();
    let mut old: HashMap<String, Vec<Cell>> = read_rows(source, table, columns)
        .await?
        .into_iter()
        .map(|row| (key(&row), row))
        .collect();
    let mut diff = TableDiff {
        rows: old.len(),
        ..TableDiff::default()
    };
    for row in read_rows(target, table, columns).await? {
        let k = key(&row);
        match old.remove(&k) {
            None => diff.only_target.push(k),
            Some(was) => {
                for ((column, a), b) in columns.iter().zip(&was).zip(&row) {
                    if a != b {
                        diff.differing.push((
                            k.clone(),
                            column.name.clone(),
                            a.to_string(),
                            b.to_string(),
                        ));
                    }
                }
            }
        }
    }
    diff.only_source = old.into_keys().collect();
    diff.only_source.sort();
    Ok(diff)
}
