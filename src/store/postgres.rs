//! PostgreSQL backend.
//!
//! Gap safety: sequence numbers are taken in append order but transactions commit in any order,
//! so "all events after seq N" could skip an event whose transaction commits late. Every event
//! row stores its transaction id (`xid8`); a reader only takes rows whose transaction is older
//! than the oldest one still running (`pg_snapshot_xmin`), so no row can still appear below the
//! reader's position, and it orders and checkpoints by (tx_id, seq). No timers, no skipped events.

use super::announcer::{Announcement, Announcer};
use super::backend::{Append, Backend, Outcome};
use super::RecordedEvent;
use super::{into_recorded_all, Appended, ExpectedVersion, ImportedStream, Position, RawEvent};
use super::{StoreError, Utc};
use crate::db::encode_error;
use chrono::DateTime;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Row};
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

pub const APPEND_CHANNEL: &str = "freightdesk_events";

#[derive(Debug, Clone)]
pub(super) struct PostgresBackend {
    pool: PgPool,
    announcer: Announcer,
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
        let announcer = Announcer::start(pool.clone(), APPEND_CHANNEL);
        Ok(Self { pool, announcer })
    }

    /// Forwards the appends other processes announce on this database into `appended`.
    pub async fn spawn_listener(
        &self,
        appended: broadcast::Sender<Appended>,
    ) -> Result<(), StoreError> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(APPEND_CHANNEL).await?;
        let announcer = self.announcer.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(notification) => {
                        match serde_json::from_str::<Announcement>(notification.payload()) {
                            Ok(a) if announcer.is_own(&a) => {}
                            Ok(a) => {
                                for one in a.appends {
                                    let _ = appended.send(one);
                                }
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

/// The whole version-checked append as one statement, one round trip: the stream row's update
/// (or insert, for a new stream) is the version check and comes first; the events are inserted
/// only from its result, so a loser takes no sequence number; the snapshot rides along. Other
/// processes hear of it after the commit (see `announcer`). No row back: a mismatch.
fn append_sql(claim: &str) -> String {
    format!(
        "WITH claimed AS ({claim}),
         inserted AS (
             INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata, recorded_at)
             SELECT e.id, $1, claimed.base + e.ord, e.event_type, e.schema_version, e.data, $8, $9
             FROM claimed,
                  UNNEST($4::uuid[], $5::text[], $6::int4[], $7::jsonb[])
                      WITH ORDINALITY AS e(id, event_type, schema_version, data, ord)
             ORDER BY e.ord
             RETURNING seq),
         snapshot AS (
             INSERT INTO snapshots (stream_id, version, state)
             SELECT $1, claimed.base + $3, $10 FROM claimed WHERE $10::jsonb IS NOT NULL
             ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, state = excluded.state),
         last AS (SELECT max(seq) AS seq FROM inserted)
         SELECT claimed.base, last.seq FROM claimed, last"
    )
}

/// An import as the arrays its UNNESTs read, one per column.
#[derive(Default)]
struct ImportColumns {
    stream_ids: Vec<Uuid>,
    kinds: Vec<String>,
    versions: Vec<i64>,
    created_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
    event_ids: Vec<Uuid>,
    event_streams: Vec<Uuid>,
    event_versions: Vec<i64>,
    event_types: Vec<String>,
    schema_versions: Vec<i32>,
    data: Vec<serde_json::Value>,
    metadata: Vec<serde_json::Value>,
    recorded_at: Vec<DateTime<Utc>>,
    snapshot_streams: Vec<Uuid>,
    snapshot_versions: Vec<i64>,
    snapshots: Vec<serde_json::Value>,
}

impl ImportColumns {
    fn of(streams: &[ImportedStream]) -> Result<Self, sqlx::Error> {
        let mut c = ImportColumns::default();
        for s in streams {
            let count = s.events.len() as i64;
            c.stream_ids.push(s.stream_id);
            c.kinds.push(s.kind.clone());
            c.versions.push(count);
            c.created_at.push(s.first_at());
            c.updated_at.push(s.last_at());
            let metadata = serde_json::to_value(&s.metadata).map_err(encode_error)?;
            for (i, e) in s.events.iter().enumerate() {
                c.event_ids.push(Uuid::new_v4());
                c.event_streams.push(s.stream_id);
                c.event_versions.push(i as i64 + 1);
                c.event_types.push(e.event.event_type.clone());
                c.schema_versions.push(e.event.schema_version);
                c.data.push(e.event.data.clone());
                c.metadata.push(metadata.clone());
                c.recorded_at.push(e.recorded_at);
            }
            if let Some(state) = &s.snapshot {
                c.snapshot_streams.push(s.stream_id);
                c.snapshot_versions.push(count);
                c.snapshots.push(state.clone());
            }
        }
        Ok(c)
    }
}

impl Backend for PostgresBackend {
    type Db = Postgres;

    fn name(&self) -> &'static str {
        "postgres"
    }

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn announce_to_other_processes(&self, appended: Appended) {
        self.announcer.announce(appended);
    }

    async fn try_append(&self, append: &Append<'_>) -> Result<Outcome, sqlx::Error> {
        static APPEND_EXISTING: LazyLock<String> = LazyLock::new(|| {
            append_sql(
                "UPDATE streams SET version = version + $3, updated_at = $9
                 WHERE id = $1 AND version = $2::bigint RETURNING version - $3 AS base",
            )
        });
        static APPEND_NEW: LazyLock<String> = LazyLock::new(|| {
            append_sql(
                "INSERT INTO streams (id, kind, version, created_at, updated_at)
                 VALUES ($1, $2::text, $3, $9, $9)
                 ON CONFLICT (id) DO NOTHING RETURNING 0::bigint AS base",
            )
        });
        let count = append.events.len() as i64;
        let metadata = serde_json::to_value(append.metadata).map_err(encode_error)?;
        let ids: Vec<Uuid> = append.events.iter().map(|_| Uuid::new_v4()).collect();
        let types: Vec<&str> = append
            .events
            .iter()
            .map(|e| e.event_type.as_str())
            .collect();
        let schemas: Vec<i32> = append.events.iter().map(|e| e.schema_version).collect();
        let data: Vec<&serde_json::Value> = append.events.iter().map(|e| &e.data).collect();
        let query = match append.expected {
            ExpectedVersion::Exactly(version) => sqlx::query(&APPEND_EXISTING)
                .bind(append.stream_id)
                .bind(version),
            ExpectedVersion::NoStream => sqlx::query(&APPEND_NEW)
                .bind(append.stream_id)
                .bind(append.kind),
        };
        let row = query
            .bind(count)
            .bind(ids)
            .bind(types)
            .bind(schemas)
            .bind(data)
            .bind(metadata)
            .bind(append.recorded_at)
            .bind(append.snapshot)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(match append.expected {
                ExpectedVersion::NoStream => Outcome::StreamExists,
                ExpectedVersion::Exactly(_) => Outcome::VersionMismatch,
            });
        };
        let base: i64 = row.try_get(0)?;
        Ok(Outcome::Appended(Appended {
            stream_id: append.stream_id,
            first_version: base + 1,
            version: base + count,
            last_seq: row.try_get(1)?,
        }))
    }

    async fn import(&self, streams: &[ImportedStream]) -> Result<Outcome, sqlx::Error> {
        let columns = ImportColumns::of(streams)?;
        let mut tx = self.pool.begin().await?;
        let created = sqlx::query(
            "INSERT INTO streams (id, kind, version, created_at, updated_at)
             SELECT id, kind, version, at, last_at
             FROM UNNEST($1::uuid[], $2::text[], $3::int8[], $4::timestamptz[], $5::timestamptz[])
                 AS s(id, kind, version, at, last_at)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&columns.stream_ids)
        .bind(&columns.kinds)
        .bind(&columns.versions)
        .bind(&columns.created_at)
        .bind(&columns.updated_at)
        .execute(&mut *tx)
        .await?;
        if created.rows_affected() != streams.len() as u64 {
            return Ok(Outcome::StreamExists);
        }
        let last_seq: i64 = sqlx::query_scalar(
            "WITH inserted AS (
                 INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata, recorded_at)
                 SELECT id, stream_id, version, event_type, schema_version, data, metadata, recorded_at
                 FROM UNNEST($1::uuid[], $2::uuid[], $3::int8[], $4::text[], $5::int4[], $6::jsonb[],
                             $7::jsonb[], $8::timestamptz[])
                     WITH ORDINALITY AS e(id, stream_id, version, event_type, schema_version, data,
                                          metadata, recorded_at, ord)
                 ORDER BY ord
                 RETURNING seq)
             SELECT max(seq) FROM inserted",
        )
        .bind(&columns.event_ids)
        .bind(&columns.event_streams)
        .bind(&columns.event_versions)
        .bind(&columns.event_types)
        .bind(&columns.schema_versions)
        .bind(&columns.data)
        .bind(&columns.metadata)
        .bind(&columns.recorded_at)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO snapshots (stream_id, version, state)
             SELECT * FROM UNNEST($1::uuid[], $2::int8[], $3::jsonb[])",
        )
        .bind(&columns.snapshot_streams)
        .bind(&columns.snapshot_versions)
        .bind(&columns.snapshots)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let last = streams.last().expect("at least one stream");
        Ok(Outcome::Appended(Appended {
            stream_id: last.stream_id,
            first_version: 1,
            version: last.events.len() as i64,
            last_seq,
        }))
    }

    async fn load_snapshot(
        &self,
        stream_id: Uuid,
    ) -> Result<Option<(i64, serde_json::Value)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT version, state FROM snapshots WHERE stream_id = $1")
                .bind(stream_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn stream_version(&self, stream_id: Uuid) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT version FROM streams WHERE id = $1")
                .bind(stream_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn read_stream(
        &self,
        stream_id: Uuid,
        after_version: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version"
        ))
        .bind(stream_id)
        .bind(after_version)
        .fetch_all(&self.pool)
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
