//! PostgreSQL backend.
//!
//! Gap safety: sequence numbers are taken in append order but transactions commit in any order,
//! so "all events after seq N" could skip an event whose transaction commits late. Every event
//! row stores its transaction id (`xid8`); a reader only takes rows whose transaction is older
//! than the oldest one still running (`pg_snapshot_xmin`), so no row can still appear below the
//! reader's position, and it orders and checkpoints by (tx_id, seq). No timers, no skipped events.

use super::backend::{Append, Backend, Claim};
use super::{into_recorded_all, Appended, ExpectedVersion, Position, RawEvent, RecordedEvent};
use super::{StoreError, Utc};
use chrono::DateTime;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgRow};
use sqlx::{PgConnection, PgPool, Postgres, Row, Transaction};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

pub const APPEND_CHANNEL: &str = "freightdesk_events";

#[derive(Debug, Clone)]
pub(super) struct PostgresBackend {
    pool: PgPool,
}

impl PostgresBackend {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("freightdesk");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Forwards NOTIFYs from every process that appends to this database into `appended`.
    pub async fn spawn_listener(
        &self,
        appended: broadcast::Sender<Appended>,
    ) -> Result<(), StoreError> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(APPEND_CHANNEL).await?;
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(notification) => {
                        match serde_json::from_str::<Appended>(notification.payload()) {
                            Ok(a) => {
                                let _ = appended.send(a);
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "ignoring malformed append notification")
                            }
                        }
                    }
                    Err(sqlx::Error::PoolClosed) => break,
                    Err(e) => {
                        // PgListener reconnects on the next recv; don't spin while the server is away.
                        tracing::warn!(error = %e, "append listener lost its connection; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(())
    }
}

const EVENT_COLUMNS: &str = "id, stream_id, version, event_type, schema_version, data, metadata, \
                             recorded_at, seq, tx_id::text::bigint AS tx";

fn raw_event(row: &PgRow) -> Result<RawEvent, sqlx::Error> {
    Ok(RawEvent {
        id: row.try_get("id")?,
        stream_id: row.try_get("stream_id")?,
        version: row.try_get("version")?,
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get("schema_version")?,
        data: row.try_get("data")?,
        metadata: row.try_get("metadata")?,
        recorded_at: row.try_get("recorded_at")?,
        position: Position {
            tx: row.try_get("tx")?,
            seq: row.try_get("seq")?,
        },
    })
}

fn recorded(rows: Vec<PgRow>) -> Result<Vec<RecordedEvent>, StoreError> {
    into_recorded_all(rows.iter().map(raw_event).collect::<Result<_, _>>()?)
}

impl Backend for PostgresBackend {
    type Db = Postgres;

    fn name(&self) -> &'static str {
        "postgres"
    }

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn announces_appends(&self) -> bool {
        true
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    async fn claim_versions(
        &self,
        conn: &mut PgConnection,
        append: &Append<'_>,
    ) -> Result<Claim, sqlx::Error> {
        let count = append.events.len() as i64;
        match append.expected {
            ExpectedVersion::NoStream => {
                let created = sqlx::query(
                    "INSERT INTO streams (id, kind, version) VALUES ($1, $2, $3)
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(append.stream_id)
                .bind(append.kind)
                .bind(count)
                .execute(conn)
                .await?;
                Ok(if created.rows_affected() == 1 {
                    Claim::Claimed { base: 0 }
                } else {
                    Claim::StreamExists
                })
            }
            ExpectedVersion::Exactly(version) => {
                let updated = sqlx::query(
                    "UPDATE streams SET version = version + $3, updated_at = now()
                     WHERE id = $1 AND version = $2",
                )
                .bind(append.stream_id)
                .bind(version)
                .bind(count)
                .execute(conn)
                .await?;
                Ok(if updated.rows_affected() == 1 {
                    Claim::Claimed { base: version }
                } else {
                    Claim::VersionMismatch
                })
            }
        }
    }

    async fn insert_events(
        &self,
        conn: &mut PgConnection,
        append: &Append<'_>,
        base: i64,
    ) -> Result<i64, sqlx::Error> {
        let metadata =
            serde_json::to_value(append.metadata).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let mut last_seq = 0;
        for (i, event) in append.events.iter().enumerate() {
            last_seq = sqlx::query_scalar(
                "INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
            )
            .bind(Uuid::new_v4())
            .bind(append.stream_id)
            .bind(base + 1 + i as i64)
            .bind(&event.event_type)
            .bind(event.schema_version)
            .bind(&event.data)
            .bind(&metadata)
            .bind(append.recorded_at)
            .fetch_one(&mut *conn)
            .await?;
        }
        Ok(last_seq)
    }

    async fn announce(
        &self,
        conn: &mut PgConnection,
        appended: &Appended,
    ) -> Result<(), sqlx::Error> {
        let payload =
            serde_json::to_string(appended).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(APPEND_CHANNEL)
            .bind(payload)
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn stream_version(
        &self,
        conn: &mut PgConnection,
        stream_id: Uuid,
    ) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT version FROM streams WHERE id = $1")
                .bind(stream_id)
                .fetch_optional(conn)
                .await?,
        )
    }

    async fn read_stream(
        &self,
        conn: &mut PgConnection,
        stream_id: Uuid,
        after_version: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version"
        ))
        .bind(stream_id)
        .bind(after_version)
        .fetch_all(conn)
        .await?;
        recorded(rows)
    }

    async fn read_all(
        &self,
        after: Position,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE (tx_id, seq) > ($1::text::xid8, $2)
               AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
             ORDER BY tx_id, seq
             LIMIT $3"
        ))
        .bind(after.tx.to_string())
        .bind(after.seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        recorded(rows)
    }

    async fn backlog(&self, after: Position) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*), MIN(recorded_at) FROM events WHERE (tx_id, seq) > ($1::text::xid8, $2)",
        )
        .bind(after.tx.to_string())
        .bind(after.seq)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn has_passed(&self, checkpoint: Position, seq: i64) -> Result<bool, StoreError> {
        // Readers order by (tx_id, seq), so a lower seq may still lie beyond the checkpoint.
        Ok(sqlx::query_scalar(
            "SELECT NOT EXISTS (SELECT 1 FROM events
                                WHERE seq = $1 AND (tx_id, seq) > ($2::text::xid8, $3))",
        )
        .bind(seq)
        .bind(checkpoint.tx.to_string())
        .bind(checkpoint.seq)
        .fetch_one(&self.pool)
        .await?)
    }
}
