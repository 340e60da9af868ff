//! The store's vocabulary: what goes in, what comes out, and how it can fail.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    pub(super) fn first_at(&self) -> DateTime<Utc> {
        self.events.first().map_or_else(Utc::now, |e| e.recorded_at)
    }

    pub(super) fn last_at(&self) -> DateTime<Utc> {
        self.events.last().map_or_else(Utc::now, |e| e.recorded_at)
    }
}

/// A stream's state as of a version, as kept by the snapshot store.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub version: i64,
    pub state: serde_json::Value,
}

/// Where an event sits in the global log: its sequence number, and on PostgreSQL the
/// transaction that wrote it (0 on SQLite). Not an order: readers keep a `Checkpoint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Position {
    pub tx: i64,
    pub seq: i64,
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

/// A batch of the global log and the checkpoint to continue from. The events are empty
/// exactly when there was nothing new to read; `next` is then not worth storing.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub events: Vec<RecordedEvent>,
    pub next: super::Checkpoint,
}
