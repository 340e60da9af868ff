//! The comparison of two board versions before a cutover: row counts, rows present in one
//! only, and sample differences in the columns both versions have.

use super::board::SHARED_COLUMNS;
use super::queries::QueryError;
use super::{versions, Definition};
use crate::db::{col, PortableDb};

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

/// Compares two versions of the board row by row.
pub async fn board_diff(
    db: &PortableDb,
    left: Definition,
    right: Definition,
) -> Result<BoardDiff, QueryError> {
    let l = versions::load(db, left).await?.physical_table;
    let r = versions::load(db, right).await?.physical_table;
    let (l, r) = (l.as_str(), r.as_str());
    let count = |table: &str| format!("SELECT COUNT(*) AS n FROM {table}");
    let scalar = |sql: String| async move {
        let row = sqlx::query(&sql).fetch_one(db.read()).await?;
        col::<i64>(&row, "n")
    };
    let ids = |sql: String| async move {
        let rows = sqlx::query(&sql).bind(SAMPLES).fetch_all(db.read()).await?;
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
    .fetch_all(db.read())
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
