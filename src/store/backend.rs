//! The narrow trait each database backend implements, and the append written once over it:
//! claim the versions (the first write), insert the events, announce, commit; on a version
//! mismatch or a unique-key violation, report the conflict with what was appended since.

use super::{AppendError, Appended, Conflict, EventMetadata, ExpectedVersion, NewEvent, Position};
use super::{RecordedEvent, StoreError};
use chrono::{DateTime, Utc};
use sqlx::{Database, Pool, Transaction};
use uuid::Uuid;

/// The outcome of the version check, the first write of every append.
pub(super) enum Claim {
    /// The stream moved from `base` to `base + n`.
    Claimed { base: i64 },
    /// `NoStream` was expected but the stream exists.
    StreamExists,
    /// The stream is not at the expected version (or does not exist).
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
}

/// What differs between the dialects: only what their SQL forces.
pub(super) trait Backend {
    type Db: Database;

    fn name(&self) -> &'static str;
    fn pool(&self) -> &Pool<Self::Db>;
    /// True when appends are announced to every process by the database itself.
    fn announces_appends(&self) -> bool;

    /// A transaction that may write; on SQLite it holds the write lock from the start.
    async fn begin_write(&self) -> Result<Transaction<'static, Self::Db>, sqlx::Error>;

    async fn claim_versions(
        &self,
        conn: &mut <Self::Db as Database>::Connection,
        append: &Append<'_>,
    ) -> Result<Claim, sqlx::Error>;

    /// Inserts the events as versions `base + 1 …`; returns the last sequence number.
    async fn insert_events(
        &self,
        conn: &mut <Self::Db as Database>::Connection,
        append: &Append<'_>,
        base: i64,
    ) -> Result<i64, sqlx::Error>;

    /// Tells other processes, on commit, that the append happened (nothing where there are none).
    async fn announce(
        &self,
        conn: &mut <Self::Db as Database>::Connection,
        appended: &Appended,
    ) -> Result<(), sqlx::Error>;

    async fn stream_version(
        &self,
        conn: &mut <Self::Db as Database>::Connection,
        stream_id: Uuid,
    ) -> Result<Option<i64>, StoreError>;

    async fn read_stream(
        &self,
        conn: &mut <Self::Db as Database>::Connection,
        stream_id: Uuid,
        after_version: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The gap-safe read of the whole log.
    async fn read_all(&self, after: Position, limit: i64)
        -> Result<Vec<RecordedEvent>, StoreError>;

    async fn backlog(&self, after: Position) -> Result<(i64, Option<DateTime<Utc>>), StoreError>;

    /// True when a reader at `checkpoint` has passed the event with sequence number `seq`:
    /// no event with that seq lies beyond the checkpoint in this dialect's read order. A seq
    /// that names no event (a stale or made-up position) has nothing to wait for.
    async fn has_passed(&self, checkpoint: Position, seq: i64) -> Result<bool, StoreError>;
}

/// Appends in one transaction. The version check is the first write, so a loser takes no
/// sequence number; the unique `(stream_id, version)` index is the backstop.
pub(super) async fn append<B: Backend>(
    backend: &B,
    append: Append<'_>,
) -> Result<Appended, AppendError> {
    if append.events.is_empty() {
        return Err(AppendError::NoEvents);
    }
    let stream_id = append.stream_id;
    let mut tx = backend.begin_write().await?;
    let base = match backend.claim_versions(&mut *tx, &append).await? {
        Claim::Claimed { base } => base,
        Claim::StreamExists => return Err(AppendError::StreamAlreadyExists { stream_id }),
        Claim::VersionMismatch => {
            let expected = match append.expected {
                ExpectedVersion::Exactly(v) => v,
                ExpectedVersion::NoStream => 0,
            };
            return Err(conflict_report(backend, &mut *tx, stream_id, expected).await);
        }
    };
    let last_seq = match backend.insert_events(&mut *tx, &append, base).await {
        Ok(seq) => seq,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            // Only reachable if something bypassed the stream row: report from fresh state.
            drop(tx);
            let mut conn = match backend.pool().acquire().await {
                Ok(conn) => conn,
                Err(e) => return Err(e.into()),
            };
            return Err(conflict_report(backend, &mut *conn, stream_id, base).await);
        }
        Err(e) => return Err(e.into()),
    };
    let count = append.events.len() as i64;
    let appended = Appended {
        stream_id,
        first_version: base + 1,
        version: base + count,
        last_seq,
    };
    backend.announce(&mut *tx, &appended).await?;
    tx.commit().await?;
    Ok(appended)
}

/// The conflict as the loser should see it: the actual version and the events since `expected`.
async fn conflict_report<B: Backend>(
    backend: &B,
    conn: &mut <B::Db as Database>::Connection,
    stream_id: Uuid,
    expected: i64,
) -> AppendError {
    let actual = match backend.stream_version(conn, stream_id).await {
        Ok(Some(actual)) => actual,
        Ok(None) => return AppendError::StreamNotFound { stream_id },
        Err(e) => return e.into(),
    };
    match backend.read_stream(conn, stream_id, expected).await {
        Ok(events_since) => AppendError::Conflict(Conflict {
            stream_id,
            expected_version: expected,
            actual_version: actual,
            events_since,
        }),
        Err(e) => e.into(),
    }
}
