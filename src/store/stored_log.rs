//! The log exactly as stored, for moving it: read in `seq` order a page at a time (export), and
//! written whole into an empty store in log order, keeping every event's position, id, stream
//! kind, version, schema version, data, metadata and time (import). Unlike `read_all` nothing
//! is upcast: an exported event restores byte for byte.
//!
//! The export reads what is committed when each page is read. On SQLite that is the log (one
//! writer at a time); on a PostgreSQL store that is being written to, an append whose
//! transaction commits after the page past its seq was read is not in the file. Export a
//! quiet store (or stop writers) for a backup.

use super::explorer::{self, Casts, LogQuery};
use super::StoreError;
use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};
use uuid::Uuid;

/// One event as stored, with its stream's kind.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub id: Uuid,
    pub stream_id: Uuid,
    pub stream_kind: String,
    pub version: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub data: serde_json::Value,
    pub metadata: serde_json::Value,
    pub recorded_at: DateTime<Utc>,
}

/// A page of the stored log: the events after `after_seq` that pass the explorer's filters
/// (`filter.page` and `filter.limit` are not used), oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredLogPage {
    pub filter: LogQuery,
    pub after_seq: i64,
    pub limit: i64,
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportedLog {
    pub events: u64,
    pub streams: u64,
    pub last_seq: i64,
}

/// The chunks an import writes, in log order; an `Err` from the producer abandons the import
/// (its transaction rolls back).
pub type LogChunks = tokio::sync::mpsc::Receiver<Result<Vec<StoredEvent>, String>>;

#[derive(Debug, thiserror::Error)]
pub enum LogImportError {
    #[error("the target store is not empty ({events} events): an import only writes into an empty store")]
    NotEmpty { events: i64 },
    #[error("import abandoned, nothing stored: {0}")]
    Abandoned(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for LogImportError {
    fn from(e: sqlx::Error) -> Self {
        LogImportError::Store(StoreError::Database(e))
    }
}

/// The page's SELECT, written once for both dialects (each brings its casts).
pub(super) fn select<'a, DB>(page: &'a StoredLogPage, casts: &Casts) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::<DB>::new(
        "SELECT events.seq, events.id, events.stream_id, streams.kind, events.version, \
         events.event_type, events.schema_version, events.data, events.metadata, \
         events.recorded_at FROM events JOIN streams ON streams.id = events.stream_id WHERE 1 = 1",
    );
    explorer::push_filters(&mut sql, &page.filter, casts);
    sql.push(" AND events.seq > ")
        .push_bind(page.after_seq)
        .push(" ORDER BY events.seq LIMIT ")
        .push_bind(page.limit.clamp(1, 10_000));
    sql
}
