//! PostgreSQL backend.
//!
//! Gap safety: sequence numbers are taken in append order but transactions commit in any order,
//! so "all events after seq N" could skip an event whose transaction commits late. Every event
//! row stores its transaction id (`xid8`), and a reader's checkpoint is a transaction snapshot:
//! each read returns the events whose transaction is visible now but was not in the checkpoint's
//! snapshot (`read.rs`, `store/checkpoint.rs`). Only an event's own open transaction delays it;
//! no timers, no skipped events.

mod append;
mod hold;
mod lease;
mod read;
mod stored_log;

use super::announcer::{Announcement, Announcer};
use super::backend::{Append, Backend, Outcome};
use super::explorer::{self, Casts, LogEntry, LogQuery};
use super::stored_log::{ImportedLog, LogChunks, LogImportError, StoredEvent, StoredLogPage};
use super::{into_recorded_all, Appended, ImportedStream, Lease, LeaseSpare, Position, RawEvent};
use super::{Batch, Checkpoint, RecordedEvent, StoreError, Utc};
use crate::db::{Dialect, APPLICATION_NAME};
use crate::stall::HoldReport;
use chrono::DateTime;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Row};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

pub const APPEND_CHANNEL: &str = "freightdesk_events";

/// How the explorer's read compares a uuid and a time here.
const EXPLORER_CASTS: Casts = Casts {
    uuid: ("CAST(", " AS uuid)"),
    time: ("CAST(", " AS timestamptz)"),
    time_text: |t| t.to_rfc3339(),
};

#[derive(Debug, Clone)]
pub(super) struct PostgresBackend {
    pool: PgPool,
    announcer: Announcer,
}

impl PostgresBackend {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name(APPLICATION_NAME);
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

impl Backend for PostgresBackend {
    type Db = Postgres;

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn announce_to_other_processes(&self, appended: Appended) {
        self.announcer.announce(appended);
    }

    async fn try_append(&self, append: &Append<'_>) -> Result<Outcome, sqlx::Error> {
        append::try_append(&self.pool, append).await
    }

    async fn import(&self, streams: &[ImportedStream]) -> Result<Outcome, sqlx::Error> {
        append::import(&self.pool, streams).await
    }

    async fn load_snapshot(
        &self,
        stream_id: Uuid,
    ) -> Result<Option<(i64, serde_json::Value)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT snapshot_version, snapshot FROM streams
                 WHERE id = $1 AND snapshot IS NOT NULL",
        )
        .bind(stream_id)
        .fetch_optional(&self.pool)
        .await?)
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

    async fn read_all(&self, after: &Checkpoint, limit: i64) -> Result<Batch, StoreError> {
        read::read_all(&self.pool, after, limit).await
    }

    async fn backlog(
        &self,
        after: &Checkpoint,
    ) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        read::backlog(&self.pool, after).await
    }

    async fn has_passed(&self, checkpoint: &Checkpoint, seq: i64) -> Result<bool, StoreError> {
        Ok(match read::tx_of_event(&self.pool, seq).await? {
            Some(tx) => checkpoint.includes(Some(tx), seq),
            None => true,
        })
    }

    async fn head_checkpoint(&self) -> Result<Checkpoint, StoreError> {
        read::head(&self.pool).await
    }

    async fn checkpoint_before_event(&self, seq: i64) -> Result<Option<Checkpoint>, StoreError> {
        read::before_event(&self.pool, seq).await
    }

    async fn first_event_after(&self, seq: i64) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT MIN(seq) FROM events WHERE seq > $1")
                .bind(seq)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn first_event_since(&self, at: DateTime<Utc>) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT seq FROM events WHERE recorded_at >= $1 ORDER BY seq LIMIT 1",
        )
        .bind(at)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn read_log(&self, query: &LogQuery) -> Result<Vec<LogEntry>, StoreError> {
        let rows = explorer::select::<Postgres>(query, &EXPLORER_CASTS)
            .build()
            .fetch_all(&self.pool)
            .await?;
        let entries = rows
            .iter()
            .map(|r| {
                Ok(LogEntry {
                    seq: r.try_get("seq")?,
                    stream_id: r.try_get("stream_id")?,
                    version: r.try_get("version")?,
                    event_type: r.try_get("event_type")?,
                    actor: r.try_get::<Option<String>, _>("actor")?.unwrap_or_default(),
                    recorded_at: r.try_get("recorded_at")?,
                    data: r.try_get("data")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(entries)
    }

    async fn read_stored(&self, page: &StoredLogPage) -> Result<Vec<StoredEvent>, StoreError> {
        stored_log::read_page(&self.pool, page).await
    }

    async fn import_log(&self, chunks: LogChunks) -> Result<ImportedLog, LogImportError> {
        stored_log::import(&self.pool, chunks).await
    }

    async fn try_lease(&self, key: i64, spare: &mut LeaseSpare) -> Option<Lease> {
        lease::try_lease(&self.pool, key, spare).await
    }

    async fn diagnose_hold(&self) -> Result<Option<HoldReport>, StoreError> {
        Ok(Some(hold::diagnose(&self.pool).await?))
    }
}
