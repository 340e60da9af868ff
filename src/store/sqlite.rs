//! SQLite backend. Writers take the database lock up front (`BEGIN IMMEDIATE`), so appends are
//! serialized and `seq` order is commit order: reading the log by `seq` skips nothing.
//! Ids, times and JSON are stored as text; times in a fixed-width UTC form so they sort.

use super::backend::{Append, Backend, Claim};
use super::{into_recorded_all, Appended, ExpectedVersion, Position, RawEvent, RecordedEvent};
use super::{StoreError, Utc};
use crate::db::{parse_time, time_text};
use chrono::DateTime;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub(super) struct SqliteBackend {
    pool: SqlitePool,
}

impl SqliteBackend {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

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

    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    fn announces_appends(&self) -> bool {
        false
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    async fn claim_versions(
        &self,
        conn: &mut SqliteConnection,
        append: &Append<'_>,
    ) -> Result<Claim, sqlx::Error> {
        let count = append.events.len() as i64;
        let id = append.stream_id.to_string();
        let now = time_text(append.recorded_at);
        match append.expected {
            ExpectedVersion::NoStream => {
                let created = sqlx::query(
                    "INSERT INTO streams (id, kind, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(&id)
                .bind(append.kind)
                .bind(count)
                .bind(&now)
                .bind(&now)
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
                    "UPDATE streams SET version = version + ?, updated_at = ? WHERE id = ? AND version = ?",
                )
                .bind(count)
                .bind(&now)
                .bind(&id)
                .bind(version)
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
        conn: &mut SqliteConnection,
        append: &Append<'_>,
        base: i64,
    ) -> Result<i64, sqlx::Error> {
        let metadata =
            serde_json::to_string(append.metadata).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let now = time_text(append.recorded_at);
        let stream_id = append.stream_id.to_string();
        let mut last_seq = 0;
        for (i, event) in append.events.iter().enumerate() {
            last_seq = sqlx::query_scalar(
                "INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata, recorded_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(&stream_id)
            .bind(base + 1 + i as i64)
            .bind(&event.event_type)
            .bind(event.schema_version)
            .bind(event.data.to_string())
            .bind(&metadata)
            .bind(&now)
            .fetch_one(&mut *conn)
            .await?;
        }
        Ok(last_seq)
    }

    async fn announce(
        &self,
        _conn: &mut SqliteConnection,
        _appended: &Appended,
    ) -> Result<(), sqlx::Error> {
        // One process owns a SQLite file: the store announces in-process after the commit.
        Ok(())
    }

    async fn stream_version(
        &self,
        conn: &mut SqliteConnection,
        stream_id: Uuid,
    ) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT version FROM streams WHERE id = ?")
                .bind(stream_id.to_string())
                .fetch_optional(conn)
                .await?,
        )
    }

    async fn read_stream(
        &self,
        conn: &mut SqliteConnection,
        stream_id: Uuid,
        after_version: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = ? AND version > ? ORDER BY version"
        ))
        .bind(stream_id.to_string())
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
            "SELECT {EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
        ))
        .bind(after.seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        recorded(rows)
    }

    async fn backlog(&self, after: Position) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        let (count, oldest): (i64, Option<String>) =
            sqlx::query_as("SELECT COUNT(*), MIN(recorded_at) FROM events WHERE seq > ?")
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

    async fn has_passed(&self, checkpoint: Position, seq: i64) -> Result<bool, StoreError> {
        // `seq` order is commit order here: the seq alone says whether it lies beyond.
        Ok(
            sqlx::query_scalar(
                "SELECT NOT EXISTS (SELECT 1 FROM events WHERE seq = ? AND seq > ?)",
            )
            .bind(seq)
            .bind(checkpoint.seq)
            .fetch_one(&self.pool)
            .await?,
        )
    }
}
