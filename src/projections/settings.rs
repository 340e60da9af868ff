//! Per-projection rollout settings, stored so every node and every admin sees the same.

use serde::{Deserialize, Serialize};

/// Per-projection rollout settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Roll back on its own when the live version fails and the previous one is healthy.
    pub auto_rollback: bool,
    /// How far behind the log a candidate may be and still count as caught up.
    pub max_lag_events: i64,
    /// How long a comparison with the live version counts.
    pub comparison_valid_minutes: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            auto_rollback: true,
            max_lag_events: 0,
            comparison_valid_minutes: 15,
        }
    }
}

#[cfg(feature = "ssr")]
pub use repo::*;

/// The table behind it (server only).
#[cfg(feature = "ssr")]
mod repo {
    use super::*;
    use crate::db::{col, time_text, PortableDb, Tx};
    use chrono::Utc;

    const SELECT: &str = "SELECT auto_rollback, max_lag_events, comparison_valid_minutes \
                      FROM projection_settings WHERE name = $1";

    fn decode(row: &sqlx::any::AnyRow) -> Result<Settings, sqlx::Error> {
        Ok(Settings {
            auto_rollback: col::<i64>(row, "auto_rollback")? != 0,
            max_lag_events: col(row, "max_lag_events")?,
            comparison_valid_minutes: col(row, "comparison_valid_minutes")?,
        })
    }

    /// The projection's settings (the defaults until someone changes them).
    pub async fn load(db: &PortableDb, name: &str) -> Result<Settings, sqlx::Error> {
        let row = sqlx::query(SELECT)
            .bind(name.to_string())
            .fetch_optional(db.read())
            .await?;
        row.as_ref()
            .map(decode)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    pub async fn save(
        tx: &mut Tx,
        name: &str,
        s: &Settings,
        actor: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO projection_settings
             (name, auto_rollback, max_lag_events, comparison_valid_minutes, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (name) DO UPDATE SET auto_rollback = excluded.auto_rollback,
             max_lag_events = excluded.max_lag_events,
             comparison_valid_minutes = excluded.comparison_valid_minutes,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(name.to_string())
        .bind(i64::from(s.auto_rollback))
        .bind(s.max_lag_events)
        .bind(s.comparison_valid_minutes)
        .bind(time_text(Utc::now()))
        .bind(actor.to_string())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
