//! The event store: append with an expected version, read a stream, read the whole log in a
//! gap-safe order. One API over two backends (PostgreSQL, SQLite) that pass the same contract tests.

mod announcer;
mod backend;
pub mod explorer;
mod positions;
mod postgres;
pub mod shipments;
mod sqlite;
mod upcast;

use crate::db::DatabaseUrl;
use backend::Backend;
use chrono::{DateTime, Utc};
use postgres::PostgresBackend;
use serde::{Deserialize, Serialize};
use sqlite::SqliteBackend;
use sqlx::{PgPool, SqlitePool};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use uuid::Uuid;

pub use upcast::{upcast_to_current, UpcastError};

/// Who did it and why: stored with every event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    pub actor: String,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub command: String,
}

/// An event to be appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_type: String,
    pub schema_version: i32,
    pub data: serde_json::Value,
}

/// An event of a stream written whole by `EventStore::import`, with the time it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedEvent {
    pub event: NewEvent,
    pub recorded_at: DateTime<Utc>,
}

/// A stream written whole by `EventStore::import`: it must not exist yet.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedStream {
    pub stream_id: Uuid,
    pub kind: String,
    pub metadata: EventMetadata,
    pub events: Vec<ImportedEvent>,
    /// The state after all its events, stored as the stream's snapshot.
    pub snapshot: Option<serde_json::Value>,
}

impl ImportedStream {
    fn first_at(&self) -> DateTime<Utc> {
        self.events.first().map_or_else(Utc::now, |e| e.recorded_at)
    }

    fn last_at(&self) -> DateTime<Utc> {
        self.events.last().map_or_else(Utc::now, |e| e.recorded_at)
    }
}

/// A stream's state as of a version, as kept by the snapshot store.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub version: i64,
    pub state: serde_json::Value,
}

/// A place in the global log. On PostgreSQL the pair (transaction id, seq) orders the log as
/// readers see it; on SQLite `tx` is always 0 and `seq` alone orders it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Position {
    pub tx: i64,
    pub seq: i64,
}

impl Position {
    pub const START: Position = Position { tx: 0, seq: 0 };
}

/// A stored event as read back, already upcast to the current schema of its type.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub id: Uuid,
    pub stream_id: Uuid,
    pub version: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub data: serde_json::Value,
    pub metadata: EventMetadata,
    pub recorded_at: DateTime<Utc>,
    pub position: Position,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be at exactly this version.
    Exactly(i64),
}

/// The outcome of a successful append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appended {
    pub stream_id: Uuid,
    pub first_version: i64,
    pub version: i64,
    pub last_seq: i64,
}

/// Someone else appended first: everything the loser needs to understand what changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub stream_id: Uuid,
    pub expected_version: i64,
    pub actual_version: i64,
    pub events_since: Vec<RecordedEvent>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored event {event_id} cannot be read: {message}")]
    Corrupt { event_id: String, message: String },
}

impl StoreError {
    /// True when the database could not be reached or is briefly unable to answer (as opposed
    /// to a bug or bad data): the client may simply try again.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Database(e) if crate::db::is_transient(e))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("stream {} was expected at version {} but is at {}", .0.stream_id, .0.expected_version, .0.actual_version)]
    Conflict(Conflict),
    #[error("stream {stream_id} already exists")]
    StreamAlreadyExists { stream_id: Uuid },
    #[error("stream {stream_id} does not exist")]
    StreamNotFound { stream_id: Uuid },
    #[error("nothing to append")]
    NoEvents,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AppendError {
    fn from(e: sqlx::Error) -> Self {
        AppendError::Store(StoreError::Database(e))
    }
}

/// A batch of the global log and the position to continue after.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub events: Vec<RecordedEvent>,
    pub next: Position,
}

#[derive(Debug, Clone)]
enum Backends {
    Postgres(PostgresBackend),
    Sqlite(SqliteBackend),
}

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

/// The states this process wrote last, per stream: a command on a stream this process just
/// wrote needs no read before its write. A stale entry is harmless: the append's version check
/// refuses it, and the caller reloads from the database.
#[derive(Debug, Default)]
struct RecentStates(Mutex<HashMap<Uuid, Snapshot>>);

/// Entries kept before the cache starts over: bounds its memory, not its correctness.
const RECENT_STATES_CAPACITY: usize = 50_000;

impl RecentStates {
    fn get(&self, stream_id: Uuid) -> Option<Snapshot> {
        self.lock().get(&stream_id).cloned()
    }

    fn put(&self, stream_id: Uuid, snapshot: Snapshot) {
        let mut map = self.lock();
        if map.len() >= RECENT_STATES_CAPACITY && !map.contains_key(&stream_id) {
            map.clear();
        }
        map.insert(stream_id, snapshot);
    }

    fn forget(&self, stream_id: Uuid) {
        self.lock().remove(&stream_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Snapshot>> {
        // A panic while holding the lock leaves a map that is still a valid cache.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Debug, Clone)]
pub struct EventStore {
    backend: Backends,
    appended: broadcast::Sender<Appended>,
    recent: Arc<RecentStates>,
}

impl EventStore {
    /// Connects, runs the backend's migrations, and starts forwarding append notifications.
    #[tracing::instrument(skip_all, fields(database = %url))]
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let (appended, _) = broadcast::channel(1024);
        let backend = match url {
            DatabaseUrl::Postgres(url) => {
                let backend = PostgresBackend::connect(url).await?;
                backend.spawn_listener(appended.clone()).await?;
                Backends::Postgres(backend)
            }
            DatabaseUrl::Sqlite { url, path } => {
                Backends::Sqlite(SqliteBackend::connect(url, path).await?)
            }
        };
        Ok(Self {
            backend,
            appended,
            recent: Arc::default(),
        })
    }

    pub fn backend_name(&self) -> &'static str {
        on_backend!(self, b => b.name())
    }

    /// The PostgreSQL pool, for what only PostgreSQL has (advisory locks, diagnosis).
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.backend {
            Backends::Postgres(b) => Some(b.pool()),
            Backends::Sqlite(_) => None,
        }
    }

    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.backend {
            Backends::Sqlite(b) => Some(b.pool()),
            Backends::Postgres(_) => None,
        }
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

    /// Up to `limit` events after `after` in the order every reader sees them. An event that is
    /// not returned now (its transaction is still open) will be returned later: none is skipped.
    #[tracing::instrument(skip(self))]
    pub async fn read_all(&self, after: Position, limit: i64) -> Result<Batch, StoreError> {
        let events = on_backend!(self, b => b.read_all(after, limit).await?);
        let next = events.last().map(|e| e.position).unwrap_or(after);
        Ok(Batch { events, next })
    }

    /// How many events lie after `position`, and when the oldest of them was recorded: a
    /// projection's lag in events and in time.
    pub async fn backlog(
        &self,
        after: Position,
    ) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        on_backend!(self, b => b.backlog(after).await)
    }

    /// True when a reader whose checkpoint is `checkpoint` has read past the event with
    /// sequence number `seq` (read-your-writes). A seq that names no event is passed: a stale
    /// or made-up position never makes a reader wait.
    #[tracing::instrument(skip(self))]
    pub async fn has_passed(&self, checkpoint: Position, seq: i64) -> Result<bool, StoreError> {
        on_backend!(self, b => b.has_passed(checkpoint, seq).await)
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
