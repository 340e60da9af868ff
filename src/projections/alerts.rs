//! Things the system did on its own that a person must see (an automatic rollback): shown as
//! a banner until an admin acknowledges them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Something the system did on its own that a person must see (an automatic rollback).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: i64,
    pub kind: String,
    pub detail: String,
    pub at: DateTime<Utc>,
}

#[cfg(feature = "ssr")]
pub use repo::*;

/// The table behind it (server only).
#[cfg(feature = "ssr")]
mod repo {
    use super::*;
    use crate::db::{col, time_col, time_text, PortableDb, Tx};
    use chrono::Utc;

    pub const AUTO_ROLLBACK: &str = "auto_rollback";

    pub async fn raise(
        tx: &mut Tx,
        name: &str,
        kind: &str,
        detail: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO projection_alerts (name, kind, detail, at) VALUES ($1, $2, $3, $4)",
        )
        .bind(name.to_string())
        .bind(kind.to_string())
        .bind(detail.to_string())
        .bind(time_text(Utc::now()))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Alerts of a projection nobody acknowledged yet, newest first.
    pub async fn open(db: &PortableDb, name: &str) -> Result<Vec<Alert>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, kind, detail, at FROM projection_alerts
         WHERE name = $1 AND acknowledged_by IS NULL ORDER BY id DESC",
        )
        .bind(name.to_string())
        .fetch_all(db.read())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Alert {
                    id: col(r, "id")?,
                    kind: col(r, "kind")?,
                    detail: col(r, "detail")?,
                    at: time_col(r, "at")?.unwrap_or_default(),
                })
            })
            .collect()
    }

    pub async fn acknowledge(
        tx: &mut Tx,
        name: &str,
        id: i64,
        actor: &str,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE projection_alerts SET acknowledged_by = $1, acknowledged_at = $2
         WHERE id = $3 AND name = $4 AND acknowledged_by IS NULL",
        )
        .bind(actor.to_string())
        .bind(time_text(Utc::now()))
        .bind(id)
        .bind(name.to_string())
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
