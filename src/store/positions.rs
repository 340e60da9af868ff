//! Finding places in the global log for readers that start somewhere other than the beginning
//! (a new subscription starts at the head; an admin rewinds one to a position or a time).
//! Positions follow the readers' order: (transaction id, seq) on PostgreSQL, seq on SQLite.

use super::backend::Backend;
use super::{Backends, EventStore, Position, StoreError};
use chrono::{DateTime, Utc};

impl EventStore {
    /// The position of the last event every reader can already see: a reader starting here
    /// gets exactly the events committed from now on (and those still in flight).
    pub async fn head_position(&self) -> Result<Position, StoreError> {
        let pool = match &self.backend {
            Backends::Postgres(b) => b.pool(),
            Backends::Sqlite(b) => {
                let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
                    .fetch_one(b.pool())
                    .await?;
                return Ok(Position { tx: 0, seq });
            }
        };
        {
            let row: Option<(i64, i64)> = sqlx::query_as(
                "SELECT tx_id::text::bigint, seq FROM events
                 WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
                 ORDER BY tx_id DESC, seq DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            Ok(row.map_or(Position::START, |(tx, seq)| Position { tx, seq }))
        }
    }

    /// The position just before the event with global position `seq`, so that a reader
    /// starting there reads that event next. `None` if there is no such event.
    pub async fn position_before_event(&self, seq: i64) -> Result<Option<Position>, StoreError> {
        let tx: Option<i64> = match &self.backend {
            Backends::Postgres(b) => {
                sqlx::query_scalar("SELECT tx_id::text::bigint FROM events WHERE seq = $1")
                    .bind(seq)
                    .fetch_optional(b.pool())
                    .await?
            }
            Backends::Sqlite(b) => {
                sqlx::query_scalar("SELECT 0 FROM events WHERE seq = ?")
                    .bind(seq)
                    .fetch_optional(b.pool())
                    .await?
            }
        };
        Ok(tx.map(|tx| Position { tx, seq: seq - 1 }))
    }

    /// The position just before the first event (in readers' order) recorded at or after
    /// `at`. `None` if nothing was recorded since.
    pub async fn position_before_time(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Option<Position>, StoreError> {
        let seq: Option<i64> =
            match &self.backend {
                Backends::Postgres(b) => sqlx::query_scalar(
                    "SELECT seq FROM events WHERE recorded_at >= $1 ORDER BY tx_id, seq LIMIT 1",
                )
                .bind(at)
                .fetch_optional(b.pool())
                .await?,
                Backends::Sqlite(b) => {
                    sqlx::query_scalar(
                        "SELECT seq FROM events WHERE recorded_at >= ? ORDER BY seq LIMIT 1",
                    )
                    .bind(crate::db::time_text(at))
                    .fetch_optional(b.pool())
                    .await?
                }
            };
        match seq {
            Some(seq) => self.position_before_event(seq).await,
            None => Ok(None),
        }
    }
}
