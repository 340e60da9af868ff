//! The repository of `projection_samples`: each version's lag and rate over the last hour, for
//! the operators' charts. A ring table: recording a sample also deletes that version's samples
//! older than `WINDOW`, so the table stays a few thousand rows however long nodes run. Only the
//! node holding a version's lease records its samples, so no two writers prune the same rows.

use super::Definition;
use crate::db::{col, time_col, time_text, PortableDb};
use chrono::{DateTime, TimeDelta, Utc};

/// How far back samples are kept (and charted).
pub const WINDOW: TimeDelta = TimeDelta::hours(1);

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub at: DateTime<Utc>,
    /// Events in the log after the version's checkpoint.
    pub lag_events: i64,
    pub events_per_sec: f64,
}

/// Adds a sample of `def` and forgets its samples from before `sample.at - WINDOW`.
pub async fn record(db: &PortableDb, def: Definition, sample: &Sample) -> Result<(), sqlx::Error> {
    db.execute(
        sqlx::query(
            "INSERT INTO projection_samples (name, version, at, lag_events, events_per_sec)
         VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(def.name())
        .bind(def.version())
        .bind(time_text(sample.at))
        .bind(sample.lag_events)
        .bind(sample.events_per_sec),
    )
    .await?;
    db.execute(
        sqlx::query("DELETE FROM projection_samples WHERE name = $1 AND version = $2 AND at < $3")
            .bind(def.name())
            .bind(def.version())
            .bind(time_text(sample.at - WINDOW)),
    )
    .await?;
    Ok(())
}

/// The samples of `def` taken at or after `since`, oldest first.
pub async fn recent(
    db: &PortableDb,
    def: Definition,
    since: DateTime<Utc>,
) -> Result<Vec<Sample>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT at, lag_events, events_per_sec FROM projection_samples
         WHERE name = $1 AND version = $2 AND at >= $3 ORDER BY at",
    )
    .bind(def.name())
    .bind(def.version())
    .bind(time_text(since))
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Sample {
                at: time_col(r, "at")?
                    .ok_or_else(|| sqlx::Error::Decode("a sample without a time".into()))?,
                lag_events: col(r, "lag_events")?,
                events_per_sec: col(r, "events_per_sec")?,
            })
        })
        .collect()
}
