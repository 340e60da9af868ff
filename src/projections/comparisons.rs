//! Recorded comparisons of a candidate version with the live one, and who accepted their
//! differences: the readiness checklist needs a recent one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The latest recorded comparison of the candidate with the live version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub live: String,
    pub candidate: String,
    pub identical: bool,
    pub differing: i64,
    pub only_live: i64,
    pub only_candidate: i64,
    pub acknowledged_by: Option<String>,
}

#[cfg(feature = "ssr")]
pub use repo::*;

/// The table behind it (server only).
#[cfg(feature = "ssr")]
mod repo {
    use crate::db::{col, time_col, time_text, PortableDb, Tx};
    use crate::projections::diff::BoardDiff;
    use chrono::{DateTime, Utc};

    #[derive(Debug, Clone, PartialEq)]
    pub struct Comparison {
        pub id: i64,
        pub live_version: i64,
        pub candidate_version: i64,
        pub at: DateTime<Utc>,
        pub identical: bool,
        pub differing: i64,
        pub only_live: i64,
        pub only_candidate: i64,
        pub acknowledged_by: Option<String>,
    }

    pub async fn record(db: &PortableDb, name: &str, d: &BoardDiff) -> Result<(), sqlx::Error> {
        db.execute(sqlx::query(
        "INSERT INTO projection_comparisons (name, live_version, candidate_version, at, identical,
             differing, only_live, only_candidate) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(name.to_string())
    .bind(d.left.version())
    .bind(d.right.version())
    .bind(time_text(Utc::now()))
    .bind(i64::from(d.identical()))
    .bind(d.differing)
    .bind(d.only_left)
    .bind(d.only_right))
    .await?;
        Ok(())
    }

    const LATEST: &str = "SELECT * FROM projection_comparisons
     WHERE name = $1 AND candidate_version = $2 AND live_version = $3 ORDER BY id DESC LIMIT 1";

    fn decode(r: &sqlx::any::AnyRow) -> Result<Comparison, sqlx::Error> {
        Ok(Comparison {
            id: col(r, "id")?,
            live_version: col(r, "live_version")?,
            candidate_version: col(r, "candidate_version")?,
            at: time_col(r, "at")?.unwrap_or_default(),
            identical: col::<i64>(r, "identical")? != 0,
            differing: col(r, "differing")?,
            only_live: col(r, "only_live")?,
            only_candidate: col(r, "only_candidate")?,
            acknowledged_by: col(r, "acknowledged_by")?,
        })
    }

    /// The newest comparison of `candidate` with `live`.
    pub async fn latest(
        db: &PortableDb,
        name: &str,
        candidate: i64,
        live: i64,
    ) -> Result<Option<Comparison>, sqlx::Error> {
        let row = sqlx::query(LATEST)
            .bind(name.to_string())
            .bind(candidate)
            .bind(live)
            .fetch_optional(db.read())
            .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Accepts the differences of one comparison; false when it was accepted already.
    pub async fn acknowledge(tx: &mut Tx, id: i64, actor: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE projection_comparisons SET acknowledged_by = $1, acknowledged_at = $2
         WHERE id = $3 AND acknowledged_by IS NULL",
        )
        .bind(actor.to_string())
        .bind(time_text(Utc::now()))
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
