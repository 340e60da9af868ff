//! The event store: append with an expected version, read a stream, read the whole log in a
//! gap-safe order. One API over two backends (PostgreSQL, SQLite) that pass the same contract
//! tests. Everything that differs between the dialects is SQL in `postgres/` and `sqlite/`
//! behind the `Backend` trait; this facade and the modules beside it are written once.
//! `Database::open` is the only way in (it runs the migrations first).

// Defined before the modules so that they can use it too.
/// Runs `$body` with `$b` bound to whichever backend this store uses: each public method is
/// written once, and the compiler instantiates it per dialect.
macro_rules! on_backend {
    ($self:expr, $b:ident => $body:expr) => {
        match &$self.backend {
            Backends::Postgres($b) => $body,
            Backends::Sqlite($b) => $body,
        }
    };
}

mod announcer;
mod backend;
mod checkpoint;
pub mod explorer;
mod lease;
mod positions;
mod postgres;
mod recent;
pub mod shipments;
mod sqlite;
pub mod stored_log;
mod types;
mod upcast;

use crate::db::{DatabaseUrl, Dialect, WriteTurns};
use backend::Backend;
use chrono::{DateTime, Utc};
use postgres::PostgresBackend;
use recent::RecentStates;
use sqlite::SqliteBackend;
use std::sync::Arc;
use tokio::sync::broadcast;
use uuid::Uuid;

pub use checkpoint::{BadCheckpoint, Checkpoint, Toward, TxSnapshot};
pub use lease::{Lease, LeaseSpare};
pub use types::{
    AppendError, Appended, Batch, Conflict, EventMetadata, ExpectedVersion, ImportedEvent,
    ImportedStream, NewEvent, Position, RecordedEvent, Snapshot, StoreError,
};
pub use upcast::{upcast_to_current, UpcastError};

#[derive(Debug, Clone)]
enum Backends {
    Postgres(PostgresBackend),
    Sqlite(SqliteBackend),
}

#[derive(Debug, Clone)]
pub struct EventStore {
    backend: Backends,
    appended: broadcast::Sender<Appended>,
    recent: Arc<RecentStates>,
}

impl EventStore {
    /// Connects, runs the backend's migrations, and starts forwarding append notifications.
    /// Only `Database::open` calls this; on SQLite `turns` is the database's one write queue.
    #[tracing::instrument(skip_all, fields(database = %url))]
    pub(crate) async fn open(url: &DatabaseUrl, turns: WriteTurns) -> Result<Self, StoreError> {
        let (appended, _) = broadcast::channel(1024);
        let backend = match url {
            DatabaseUrl::Postgres(url) => {
                let backend = PostgresBackend::connect(url).await?;
                backend.spawn_listener(appended.clone()).await?;
                Backends::Postgres(backend)
            }
            DatabaseUrl::Sqlite { url, .. } => {
                Backends::Sqlite(SqliteBackend::connect(url, turns).await?)
            }
        };
        Ok(Self {
            backend,
            appended,
            recent: Arc::default(),
        })
    }

    /// Which database this store is on.
    pub fn dialect(&self) -> Dialect {
        on_backend!(self, b => b.dialect())
    }

    /// Tries once to become the one node that runs the work under `key` (see `lease`).
    pub async fn try_lease(&self, key: i64, spare: &mut LeaseSpare) -> Option<Lease> {
        on_backend!(self, b => b.try_lease(key, spare).await)
    }

    /// What holds readers back right now: `None` where nothing but the reader's own pace can
    /// (SQLite).
    pub async fn diagnose_hold(&self) -> Result<Option<crate::stall::HoldReport>, StoreError> {
        on_backend!(self, b => b.diagnose_hold().await)
    }

    /// Answers only when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_backend!(self, b => sqlx::query("SELECT 1").execute(b.pool()).await.map(|_| ())?);
        Ok(())
    }

    /// Closes the pool: later calls fail as if the database went away.
    pub async fn close(&self) {
        on_backend!(self, b => b.pool().close().await)
    }

    /// Live notifications of appends (also those made by other processes on PostgreSQL, a
    /// moment later: see `announcer`).
    pub fn subscribe(&self) -> broadcast::Receiver<Appended> {
        self.appended.subscribe()
    }

    /// Tells this process's listeners about a committed append (the backend tells the others).
    fn announce(&self, appended: Appended) {
        let _ = self.appended.send(appended);
    }

    /// Appends events in one transaction if the stream is at `expected`. The version check is
    /// the transaction's first write, before any sequence number is taken, so a loser leaves no gap.
    #[tracing::instrument(skip(self, events, metadata), fields(n = events.len()))]
    pub async fn append_with_expected_version(
        &self,
        stream_id: Uuid,
        kind: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
        metadata: &EventMetadata,
    ) -> Result<Appended, AppendError> {
        self.append(stream_id, kind, expected, events, metadata, None)
            .await
    }

    /// Like `append_with_expected_version`, and stores `state` (the stream's state after these
    /// events) as its snapshot in the same transaction.
    #[tracing::instrument(skip(self, events, metadata, state), fields(n = events.len()))]
    pub async fn append_with_snapshot(
        &self,
        stream_id: Uuid,
        kind: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
        metadata: &EventMetadata,
        state: serde_json::Value,
    ) -> Result<Appended, AppendError> {
        self.append(stream_id, kind, expected, events, metadata, Some(state))
            .await
    }

    async fn append(
        &self,
        stream_id: Uuid,
        kind: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
        metadata: &EventMetadata,
        state: Option<serde_json::Value>,
    ) -> Result<Appended, AppendError> {
        let append = backend::Append {
            stream_id,
            kind,
            expected,
            events,
            metadata,
            recorded_at: Utc::now(),
            snapshot: state.as_ref(),
        };
        let appended = match on_backend!(self, b => backend::append(b, append).await) {
            Ok(appended) => appended,
            Err(e) => {
                self.recent.forget(stream_id);
                return Err(e);
            }
        };
        match state {
            Some(state) => self.recent.put(
                stream_id,
                Snapshot {
                    version: appended.version,
                    state,
                },
            ),
            None => self.recent.forget(stream_id),
        }
        self.announce(appended);
        Ok(appended)
    }

    /// Writes new streams whole in one transaction (seeding, imports): each must not exist
    /// yet, or nothing is written. Events keep the times given. Announced like an append.
    #[tracing::instrument(skip_all, fields(streams = streams.len()))]
    pub async fn import(&self, streams: &[ImportedStream]) -> Result<(), AppendError> {
        if let Some(last) = on_backend!(self, b => backend::import(b, streams).await?) {
            self.announce(last);
        }
        Ok(())
    }

    /// The stream's stored snapshot, if it has one. Its version may lag the stream's: a
    /// reader folds the events after it on top.
    pub async fn load_snapshot(&self, stream_id: Uuid) -> Result<Option<Snapshot>, StoreError> {
        let stored = on_backend!(self, b => b.load_snapshot(stream_id).await?);
        Ok(stored.map(|(version, state)| Snapshot { version, state }))
    }

    /// The state this process itself stored last for the stream, if it still remembers it.
    /// It may be stale (another process appended since): use it only where the append's
    /// version check will catch that.
    pub fn recent_state(&self, stream_id: Uuid) -> Option<Snapshot> {
        self.recent.get(stream_id)
    }

    /// The stream's events with version > `after_version`, in version order.
    #[tracing::instrument(skip(self))]
    pub async fn read_stream(
        &self,
        stream_id: Uuid,
        after_version: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        on_backend!(self, b => b.read_stream(stream_id, after_version).await)
    }

    pub async fn stream_version(&self, stream_id: Uuid) -> Result<Option<i64>, StoreError> {
        on_backend!(self, b => b.stream_version(stream_id).await)
    }

    /// Up to `limit` events the checkpoint has not read, and the checkpoint after them. An
    /// event that is not returned now (its transaction is still open) will be returned later:
    /// none is skipped, none is returned twice, and only its own transaction delays it.
    #[tracing::instrument(skip(self))]
    pub async fn read_all(&self, after: &Checkpoint, limit: i64) -> Result<Batch, StoreError> {
        on_backend!(self, b => b.read_all(after, limit).await)
    }

    /// How many committed events the checkpoint has not read, and when the oldest of them came
    /// into this store (its append; for an imported or seeded event, its import, not the
    /// original time it keeps): a projection's lag in events and in time.
    pub async fn backlog(
        &self,
        after: &Checkpoint,
    ) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        on_backend!(self, b => b.backlog(after).await)
    }

    /// True when a reader whose checkpoint is `checkpoint` has read the event with sequence
    /// number `seq` (read-your-writes). A seq that names no event is passed: a stale or
    /// made-up position never makes a reader wait.
    #[tracing::instrument(skip(self))]
    pub async fn has_passed(&self, checkpoint: &Checkpoint, seq: i64) -> Result<bool, StoreError> {
        on_backend!(self, b => b.has_passed(checkpoint, seq).await)
    }

    /// A page of the log exactly as stored (not upcast), oldest first: what an export writes.
    #[tracing::instrument(skip(self))]
    pub async fn read_stored(
        &self,
        page: &stored_log::StoredLogPage,
    ) -> Result<Vec<stored_log::StoredEvent>, StoreError> {
        on_backend!(self, b => b.read_stored(page).await)
    }

    /// Writes a whole log, chunk by chunk in log order, into this store, which must be empty:
    /// one transaction, so an import that fails or is abandoned leaves nothing behind. Every
    /// event keeps its position, id, version, time and metadata; appends after it continue
    /// after the last position. Not announced: nothing is running on an empty store.
    #[tracing::instrument(skip_all)]
    pub async fn import_log(
        &self,
        chunks: stored_log::LogChunks,
    ) -> Result<stored_log::ImportedLog, stored_log::LogImportError> {
        on_backend!(self, b => b.import_log(chunks).await)
    }

    /// The highest sequence number stored, and how many events there are.
    pub async fn head(&self) -> Result<(i64, i64), StoreError> {
        let sql = "SELECT COALESCE(MAX(seq), 0), COUNT(*) FROM events";
        Ok(on_backend!(self, b => sqlx::query_as(sql).fetch_one(b.pool()).await?))
    }
}

/// What both backends' row readers produce before upcasting.
struct RawEvent {
    id: Uuid,
    stream_id: Uuid,
    version: i64,
    event_type: String,
    schema_version: i32,
    data: serde_json::Value,
    metadata: serde_json::Value,
    recorded_at: DateTime<Utc>,
    position: Position,
}

impl RawEvent {
    fn into_recorded(self) -> Result<RecordedEvent, StoreError> {
        let id = self.id;
        let corrupt = |message: String| StoreError::Corrupt {
            event_id: id.to_string(),
            message,
        };
        let (schema_version, data) =
            upcast_to_current(&self.event_type, self.schema_version, self.data)
                .map_err(|e| corrupt(e.to_string()))?;
        let metadata: EventMetadata =
            serde_json::from_value(self.metadata).map_err(|e| corrupt(format!("metadata: {e}")))?;
        Ok(RecordedEvent {
            id,
            stream_id: self.stream_id,
            version: self.version,
            event_type: self.event_type,
            schema_version,
            data,
            metadata,
            recorded_at: self.recorded_at,
            position: self.position,
        })
    }
}

fn into_recorded_all(raw: Vec<RawEvent>) -> Result<Vec<RecordedEvent>, StoreError> {
    raw.into_iter().map(RawEvent::into_recorded).collect()
}
