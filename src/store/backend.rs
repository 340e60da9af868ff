//! The narrow trait each database backend implements, and the append written once over it:
//! the backend claims the versions (the first write), inserts the events, stores the snapshot
//! and announces the append, all or nothing; on a version mismatch or a unique-key violation
//! the conflict is reported with what was appended since.

use super::explorer::{LogEntry, LogQuery};
use super::stored_log::{ImportedLog, LogChunks, LogImportError, StoredEvent, StoredLogPage};
use super::{AppendError, Appended, Conflict, EventMetadata, ExpectedVersion, ImportedStream};
use super::{Batch, Checkpoint, Lease, LeaseSpare, NewEvent, RecordedEvent, StoreError};
use crate::db::Dialect;
use crate::stall::HoldReport;
use chrono::{DateTime, Utc};
use sqlx::{Database, Pool};
use uuid::Uuid;

/// What one attempt to append came to.
pub(super) enum Outcome {
    Appended(Appended),
    /// `NoStream` was expected but the stream exists.
    StreamExists,
    /// The stream is not at the expected version (or does not exist). Nothing was written and
    /// no sequence number was taken.
    VersionMismatch,
}

/// One append, as the caller asked for it.
pub(super) struct Append<'a> {
    pub stream_id: Uuid,
    pub kind: &'a str,
    pub expected: ExpectedVersion,
    pub events: &'a [NewEvent],
    pub metadata: &'a EventMetadata,
    pub recorded_at: DateTime<Utc>,
    /// The stream's state after these events, stored with them (see `snapshots`).
    pub snapshot: Option<&'a serde_json::Value>,
}

impl Append<'_> {
    /// The version the stream must be at: 0 for a new stream.
    pub fn base(&self) -> i64 {
        match self.expected {
            ExpectedVersion::Exactly(v) => v,
            ExpectedVersion::NoStream => 0,
        }
    }
}

/// What differs between the dialects: only what their SQL forces. Every statement that is
/// not the same text on both lives behind this trait, in `postgres/` or `sqlite/`.
pub(super) trait Backend {
    type Db: Database;

    fn dialect(&self) -> Dialect;
    fn pool(&self) -> &Pool<Self::Db>;
    /// Tells the other processes on this database about a committed append, if the database
    /// can (this process's own listeners hear of it from `EventStore` directly).
    fn announce_to_other_processes(&self, appended: Appended);

    /// Checks the version, then (and only then) inserts the events and the snapshot: all or
    /// nothing.
    async fn try_append(&self, append: &Append<'_>) -> Result<Outcome, sqlx::Error>;

    /// Writes new streams whole (at least one), in one transaction, answering with the last
    /// one; `StreamExists` (and nothing written) when one of them exists already.
    async fn import(&self, streams: &[ImportedStream]) -> Result<Outcome, sqlx::Error>;

    async fn stream_version(&self, stream_id: Uuid) -> Result<Option<i64>, StoreError>;

    async fn read_stream(
        &self,
        stream_id: Uuid,
        after_version: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The stored snapshot of a stream: its version and state.
    async fn load_snapshot(
        &self,
        stream_id: Uuid,
    ) -> Result<Option<(i64, serde_json::Value)>, StoreError>;

    /// The gap-safe read of the whole log: up to `limit` events the checkpoint has not read,
    /// in an order that keeps each stream's versions in order.
    async fn read_all(&self, after: &Checkpoint, limit: i64) -> Result<Batch, StoreError>;

    /// How many committed events the checkpoint has not read, and when the oldest was recorded.
    async fn backlog(&self, after: &Checkpoint)
        -> Result<(i64, Option<DateTime<Utc>>), StoreError>;

    /// True when a reader at `checkpoint` has read the event with sequence number `seq`. A
    /// seq that names no event (a stale or made-up position) has nothing to wait for.
    async fn has_passed(&self, checkpoint: &Checkpoint, seq: i64) -> Result<bool, StoreError>;

    /// A checkpoint that has read everything committed now.
    async fn head_checkpoint(&self) -> Result<Checkpoint, StoreError>;

    /// A checkpoint whose next read starts with the event `seq`, if there is one.
    async fn checkpoint_before_event(&self, seq: i64) -> Result<Option<Checkpoint>, StoreError>;

    /// The sequence number of the first event after position `seq`.
    async fn first_event_after(&self, seq: i64) -> Result<Option<i64>, StoreError>;

    /// The sequence number of the first event (in seq order) recorded at or after `at`.
    async fn first_event_since(&self, at: DateTime<Utc>) -> Result<Option<i64>, StoreError>;

    /// The explorer's read: newest first (or oldest first for a page of newer events).
    async fn read_log(&self, query: &LogQuery) -> Result<Vec<LogEntry>, StoreError>;

    /// A page of the log as stored, oldest first (export).
    async fn read_stored(&self, page: &StoredLogPage) -> Result<Vec<StoredEvent>, StoreError>;

    /// Writes a whole log into an empty store in one transaction, keeping every position.
    async fn import_log(&self, chunks: LogChunks) -> Result<ImportedLog, LogImportError>;

    /// Tries once to take the lease under `key`.
    async fn try_lease(&self, key: i64, spare: &mut LeaseSpare) -> Option<Lease>;

    /// What holds readers back, where something other than the reader can.
    async fn diagnose_hold(&self) -> Result<Option<HoldReport>, StoreError>;
}

/// Appends all or nothing. The version check comes before any sequence number is taken, so a
/// loser leaves no gap; the unique `(stream_id, version)` index is the backstop.
pub(super) async fn append<B: Backend>(
    backend: &B,
    append: Append<'_>,
) -> Result<Appended, AppendError> {
    if append.events.is_empty() {
        return Err(AppendError::NoEvents);
    }
    let stream_id = append.stream_id;
    let expected = append.base();
    match backend.try_append(&append).await {
        Ok(Outcome::Appended(appended)) => {
            backend.announce_to_other_processes(appended);
            Ok(appended)
        }
        Ok(Outcome::StreamExists) => Err(AppendError::StreamAlreadyExists { stream_id }),
        Ok(Outcome::VersionMismatch) => Err(conflict_report(backend, stream_id, expected).await),
        // Only reachable if something bypassed the stream row: report from fresh state.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(conflict_report(backend, stream_id, expected).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// Writes new streams whole; if one exists already, nothing is written and it is named.
pub(super) async fn import<B: Backend>(
    backend: &B,
    streams: &[ImportedStream],
) -> Result<Option<Appended>, AppendError> {
    if streams.iter().any(|s| s.events.is_empty()) {
        return Err(AppendError::NoEvents);
    }
    if streams.is_empty() {
        return Ok(None);
    }
    match backend.import(streams).await? {
        Outcome::Appended(last) => {
            backend.announce_to_other_processes(last);
            Ok(Some(last))
        }
        _ => {
            for stream in streams {
                if backend.stream_version(stream.stream_id).await?.is_some() {
                    let stream_id = stream.stream_id;
                    return Err(AppendError::StreamAlreadyExists { stream_id });
                }
            }
            // Seen a moment ago and gone again: a concurrent import of the same stream rolled back.
            Err(AppendError::Store(StoreError::Database(
                sqlx::Error::RowNotFound,
            )))
        }
    }
}

/// The conflict as the loser should see it: the actual version and the events since `expected`.
async fn conflict_report<B: Backend>(backend: &B, stream_id: Uuid, expected: i64) -> AppendError {
    let actual = match backend.stream_version(stream_id).await {
        Ok(Some(actual)) => actual,
        Ok(None) => return AppendError::StreamNotFound { stream_id },
        Err(e) => return e.into(),
    };
    match backend.read_stream(stream_id, expected).await {
        Ok(events_since) => AppendError::Conflict(Conflict {
            stream_id,
            expected_version: expected,
            actual_version: actual,
            events_since,
        }),
        Err(e) => e.into(),
    }
}
