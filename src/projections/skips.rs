//! Events an admin told a version to go past ("poison events"), with who, when and why. The
//! daemon leaves them out of that version; nothing disappears silently.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An event an admin told a version to go past, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedEvent {
    pub seq: i64,
    pub stream_id: String,
    pub event_type: String,
    pub error: String,
    pub reason: String,
    pub skipped_by: String,
    pub skipped_at: DateTime<Utc>,
    pub acknowledged_by: Option<String>,
}

#[cfg(feature = "ssr")]
pub use repo::*;

/// The table behind it (server only).
#[cfg(feature = "ssr")]
mod repo {
    use super::*;
    use crate::db::{col, time_col, time_text, PortableDb, Tx};
    use crate::projections::Definition;
    use chrono::Utc;
    use std::collections::HashSet;

    pub struct NewSkip<'a> {
        pub seq: i64,
        pub stream_id: &'a str,
        pub event_type: &'a str,
        pub error: &'a str,
        pub reason: &'a str,
        pub actor: &'a str,
    }

    pub async fn record(
        tx: &mut Tx,
        def: Definition,
        skip: NewSkip<'_>,
    ) -> Result<bool, sqlx::Error> {
        let inserted = sqlx::query(
            "INSERT INTO skipped_events (name, version, seq, stream_id, event_type, error, reason,
             skipped_by, skipped_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT DO NOTHING",
        )
        .bind(def.name())
        .bind(def.version())
        .bind(skip.seq)
        .bind(skip.stream_id.to_string())
        .bind(skip.event_type.to_string())
        .bind(skip.error.to_string())
        .bind(skip.reason.to_string())
        .bind(skip.actor.to_string())
        .bind(time_text(Utc::now()))
        .execute(&mut **tx)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Every skipped event of a version, oldest first.
    pub async fn list(db: &PortableDb, def: Definition) -> Result<Vec<SkippedEvent>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT * FROM skipped_events WHERE name = $1 AND version = $2 ORDER BY seq",
        )
        .bind(def.name())
        .bind(def.version())
        .fetch_all(db.read())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SkippedEvent {
                    seq: col(r, "seq")?,
                    stream_id: col(r, "stream_id")?,
                    event_type: col(r, "event_type")?,
                    error: col(r, "error")?,
                    reason: col(r, "reason")?,
                    skipped_by: col(r, "skipped_by")?,
                    skipped_at: time_col(r, "skipped_at")?.unwrap_or_default(),
                    acknowledged_by: col(r, "acknowledged_by")?,
                })
            })
            .collect()
    }

    /// The sequence numbers the daemon leaves out for a version.
    pub async fn seqs(db: &PortableDb, def: Definition) -> Result<HashSet<i64>, sqlx::Error> {
        let rows = sqlx::query("SELECT seq FROM skipped_events WHERE name = $1 AND version = $2")
            .bind(def.name())
            .bind(def.version())
            .fetch_all(db.read())
            .await?;
        rows.iter().map(|r| col::<i64>(r, "seq")).collect()
    }

    /// How many skipped events of a version nobody acknowledged yet.
    pub async fn unacknowledged(db: &PortableDb, def: Definition) -> Result<i64, sqlx::Error> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM skipped_events
         WHERE name = $1 AND version = $2 AND acknowledged_by IS NULL",
        )
        .bind(def.name())
        .bind(def.version())
        .fetch_one(db.read())
        .await?;
        col(&row, "n")
    }

    /// Every skipped event, per version, for metrics.
    pub async fn counts(db: &PortableDb) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT name, version, COUNT(*) AS n FROM skipped_events GROUP BY name, version",
        )
        .fetch_all(db.read())
        .await?;
        rows.iter()
            .map(|r| Ok((col(r, "name")?, col(r, "version")?, col(r, "n")?)))
            .collect()
    }

    pub async fn acknowledge(
        tx: &mut Tx,
        def: Definition,
        actor: &str,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE skipped_events SET acknowledged_by = $1, acknowledged_at = $2
         WHERE name = $3 AND version = $4 AND acknowledged_by IS NULL",
        )
        .bind(actor.to_string())
        .bind(time_text(Utc::now()))
        .bind(def.name())
        .bind(def.version())
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected())
    }
}
