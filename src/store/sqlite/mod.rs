//! SQLite backend. Writers take the database lock up front (`BEGIN IMMEDIATE`), so appends are
//! serialized and `seq` order is commit order: reading the log by `seq` skips nothing.
//! Ids, times and JSON are stored as text; times in a fixed-width UTC form so they sort.

mod append;
mod stored_log;

use super::backend::{Append, Backend, Outcome};
use super::explorer::{self, Casts, LogEntry, LogQuery};
use super::lease::Held;
use super::stored_log::{ImportedLog, LogChunks, LogImportError, StoredEvent, StoredLogPage};
use super::{into_recorded_all, Batch, Checkpoint, ImportedStream, Lease, LeaseSpare, Position};
use super::{Appended, RawEvent, RecordedEvent};
use super::{StoreError, Utc};
use crate::db::{parse_time, time_text, Dialect, WriteTurns};
use crate::stall::HoldReport;
use chrono::DateTime;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqlitePool};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

/// How the explorer's read compares a uuid and a time here: both are stored as text.
const EXPLORER_CASTS: Casts = Casts {
    uuid: ("", ""),
    time: ("", ""),
    time_text,
};

#[derive(Debug, Clone)]
pub(super) struct SqliteBackend {
    pool: SqlitePool,
    turns: WriteTurns,
}

impl SqliteBackend {
    pub async fn connect(url: &str, turns: WriteTurns) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(WriteTurns::PATIENCE);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool, turns })
    }
}

/// Rows per multi-row INSERT: 8 parameters each stays far below SQLite's limit of 32,766.
const EVENT_COLUMNS: &str =
    "id, stream_id, version, event_type, schema_version, data, metadata, recorded_at, seq";

fn raw_event(row: &SqliteRow) -> Result<RawEvent, StoreError> {
    let id: String = row.try_get("id")?;
    let corrupt = |message: String| StoreError::Corrupt {
        event_id: id.clone(),
        message,
    };
    let uuid = |s: String| Uuid::parse_str(&s).map_err(|e| corrupt(e.to_string()));
    let json = |s: String| serde_json::from_str(&s).map_err(|e| corrupt(e.to_string()));
    Ok(RawEvent {
        id: uuid(row.try_get("id")?)?,
        stream_id: uuid(row.try_get("stream_id")?)?,
        version: row.try_get("version")?,
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get("schema_version")?,
        data: json(row.try_get("data")?)?,
        metadata: json(row.try_get("metadata")?)?,
        recorded_at: parse_time(&row.try_get::<String, _>("recorded_at")?).map_err(corrupt)?,
        position: Position {
            tx: 0,
            seq: row.try_get("seq")?,
        },
    })
}

fn recorded(rows: Vec<SqliteRow>) -> Result<Vec<RecordedEvent>, StoreError> {
    into_recorded_all(rows.iter().map(raw_event).collect::<Result<_, _>>()?)
}

impl Backend for SqliteBackend {
    type Db = Sqlite;

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// SQLite has no way to tell other processes: they find new events on their next poll.
    fn announce_to_other_processes(&self, _appended: Appended) {}

    async fn try_append(&self, append: &Append<'_>) -> Result<Outcome, sqlx::Error> {
        append::try_append(&self.pool, &self.turns, append).await
    }

    async fn import(&self, streams: &[ImportedStream]) -> Result<Outcome, sqlx::Error> {
        append::import(&self.pool, &self.turns, streams).await
    }

    async fn load_snapshot(
        &self,
        stream_id: Uuid,
    ) -> Result<Option<(i64, serde_json::Value)>, StoreError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT version, state FROM snapshots WHERE stream_id = ?")
                .bind(stream_id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(version, state)| {
            serde_json::from_str(&state)
                .map(|state| (version, state))
                .map_err(|e| StoreError::Corrupt {
                    event_id: format!("(snapshot of {stream_id})"),
                    message: e.to_string(),
                })
        })
        .transpose()
    }

    async fn stream_version(&self, stream_id: Uuid) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT version FROM streams WHERE id = ?")
                .bind(stream_id.to_string())
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
            "SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = ? AND version > ? ORDER BY version"
        ))
        .bind(stream_id.to_string())
        .bind(after_version)
        .fetch_all(&self.pool)
        .await?;
        recorded(rows)
    }

    async fn read_all(&self, after: &Checkpoint, limit: i64) -> Result<Batch, StoreError> {
        // One writer commits at a time: seq order is commit order, and the seq says everything.
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
        ))
        .bind(after.seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let events = recorded(rows)?;
        let seq = events.last().map_or(after.seq, |e| e.position.seq);
        let next = Checkpoint {
            seq,
            ..Checkpoint::START
        };
        Ok(Batch { events, next })
    }

    async fn backlog(
        &self,
        after: &Checkpoint,
    ) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        let (count, oldest): (i64, Option<String>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(COALESCE(appended_at, recorded_at)) FROM events WHERE seq > ?",
        )
        .bind(after.seq)
        .fetch_one(&self.pool)
        .await?;
        let oldest = oldest
            .map(|t| parse_time(&t))
            .transpose()
            .map_err(|message| StoreError::Corrupt {
                event_id: "(backlog)".into(),
                message,
            })?;
        Ok((count, oldest))
    }

    async fn has_passed(&self, checkpoint: &Checkpoint, seq: i64) -> Result<bool, StoreError> {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM events WHERE seq = ?)")
            .bind(seq)
            .fetch_one(&self.pool)
            .await?;
        Ok(!exists || checkpoint.includes(None, seq))
    }

    async fn head_checkpoint(&self) -> Result<Checkpoint, StoreError> {
        let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(Checkpoint {
            seq,
            ..Checkpoint::START
        })
    }

    async fn checkpoint_before_event(&self, seq: i64) -> Result<Option<Checkpoint>, StoreError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT seq FROM events WHERE seq = ?")
            .bind(seq)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.map(|seq| Checkpoint {
            seq: seq - 1,
            ..Checkpoint::START
        }))
    }

    async fn first_event_after(&self, seq: i64) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT MIN(seq) FROM events WHERE seq > ?")
                .bind(seq)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn first_event_since(&self, at: DateTime<Utc>) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar(
                "SELECT seq FROM events WHERE recorded_at >= ? ORDER BY seq LIMIT 1",
            )
            .bind(time_text(at))
            .fetch_optional(&self.pool)
            .await?,
        )
    }

    async fn read_log(&self, query: &LogQuery) -> Result<Vec<LogEntry>, StoreError> {
        let rows = explorer::select::<Sqlite>(query, &EXPLORER_CASTS)
            .build()
            .fetch_all(&self.pool)
            .await?;
        let corrupt = |e: String| sqlx::Error::Decode(e.into());
        let entries = rows
            .iter()
            .map(|r| {
                Ok(LogEntry {
                    seq: r.try_get("seq")?,
                    stream_id: Uuid::parse_str(&r.try_get::<String, _>("stream_id")?)
                        .map_err(|e| corrupt(e.to_string()))?,
                    version: r.try_get("version")?,
                    event_type: r.try_get("event_type")?,
                    actor: r.try_get::<Option<String>, _>("actor")?.unwrap_or_default(),
                    recorded_at: parse_time(&r.try_get::<String, _>("recorded_at")?)
                        .map_err(corrupt)?,
                    data: serde_json::from_str(&r.try_get::<String, _>("data")?)
                        .map_err(|e| corrupt(e.to_string()))?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(entries)
    }

    async fn read_stored(&self, page: &StoredLogPage) -> Result<Vec<StoredEvent>, StoreError> {
        stored_log::read_page(&self.pool, page).await
    }

    async fn import_log(&self, chunks: LogChunks) -> Result<ImportedLog, LogImportError> {
        stored_log::import(&self.pool, &self.turns, chunks).await
    }

    /// One process owns the file, so it owns all its work.
    async fn try_lease(&self, _key: i64, _spare: &mut LeaseSpare) -> Option<Lease> {
        Some(Lease(Held::WholeFile))
    }

    /// Writers take turns and `seq` order is commit order: nothing but the reader's own pace
    /// holds it back.
    async fn diagnose_hold(&self) -> Result<Option<HoldReport>, StoreError> {
        Ok(None)
    }
}
