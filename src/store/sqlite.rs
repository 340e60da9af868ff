//! SQLite backend. Writers take the database lock up front (`BEGIN IMMEDIATE`), so appends are
//! serialized and `seq` order is commit order: reading the log by `seq` skips nothing.
//! Ids, times and JSON are stored as text; times in a fixed-width UTC form so they sort.

use super::{
    into_recorded_all, parse_time, time_text, AppendError, Appended, Conflict, EventMetadata,
    ExpectedVersion, NewEvent, Position, RawEvent, RecordedEvent, StoreError,
};
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

pub async fn connect(url: &str) -> Result<SqlitePool, StoreError> {
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
    Ok(pool)
}

#[allow(clippy::too_many_arguments)]
pub async fn append(
    pool: &SqlitePool,
    stream_id: Uuid,
    kind: &str,
    expected: ExpectedVersion,
    events: &[NewEvent],
    metadata: &EventMetadata,
    recorded_at: DateTime<Utc>,
) -> Result<Appended, AppendError> {
    let count = events.len() as i64;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let now = time_text(recorded_at);
    let base = claim_versions(&mut tx, stream_id, kind, expected, count, &now).await?;
    let metadata_json = serde_json::to_string(metadata).expect("metadata serializes");
    let mut last_seq = 0;
    for (i, event) in events.iter().enumerate() {
        last_seq = sqlx::query_scalar(
            "INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata, recorded_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(stream_id.to_string())
        .bind(base + 1 + i as i64)
        .bind(&event.event_type)
        .bind(event.schema_version)
        .bind(event.data.to_string())
        .bind(&metadata_json)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Appended {
        stream_id,
        first_version: base + 1,
        version: base + count,
        last_seq,
    })
}

async fn claim_versions(
    tx: &mut Transaction<'_, Sqlite>,
    stream_id: Uuid,
    kind: &str,
    expected: ExpectedVersion,
    count: i64,
    now: &str,
) -> Result<i64, AppendError> {
    let id = stream_id.to_string();
    match expected {
        ExpectedVersion::NoStream => {
            let created = sqlx::query(
                "INSERT INTO streams (id, kind, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(&id)
            .bind(kind)
            .bind(count)
            .bind(now)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            if created.rows_affected() == 0 {
                return Err(AppendError::StreamAlreadyExists { stream_id });
            }
            Ok(0)
        }
        ExpectedVersion::Exactly(version) => {
            let updated = sqlx::query(
                "UPDATE streams SET version = version + ?, updated_at = ? WHERE id = ? AND version = ?",
            )
            .bind(count)
            .bind(now)
            .bind(&id)
            .bind(version)
            .execute(&mut **tx)
            .await?;
            if updated.rows_affected() == 0 {
                let actual = match stream_version(&mut **tx, stream_id).await? {
                    Some(actual) => actual,
                    None => return Err(AppendError::StreamNotFound { stream_id }),
                };
                let events_since = read_stream(&mut **tx, stream_id, version).await?;
                return Err(AppendError::Conflict(Conflict {
                    stream_id,
                    expected_version: version,
                    actual_version: actual,
                    events_since,
                }));
            }
            Ok(version)
        }
    }
}

pub async fn stream_version<'e>(
    executor: impl sqlx::SqliteExecutor<'e>,
    stream_id: Uuid,
) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT version FROM streams WHERE id = ?")
            .bind(stream_id.to_string())
            .fetch_optional(executor)
            .await?,
    )
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

pub async fn read_stream<'e>(
    executor: impl sqlx::SqliteExecutor<'e>,
    stream_id: Uuid,
    after_version: i64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = ? AND version > ? ORDER BY version"
    ))
    .bind(stream_id.to_string())
    .bind(after_version)
    .fetch_all(executor)
    .await?;
    into_recorded_all(rows.iter().map(raw_event).collect::<Result<_, _>>()?)
}

pub async fn read_all(
    pool: &SqlitePool,
    after: Position,
    limit: i64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
    ))
    .bind(after.seq)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    into_recorded_all(rows.iter().map(raw_event).collect::<Result<_, _>>()?)
}

pub async fn backlog(
    pool: &SqlitePool,
    after: Position,
) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
    let (count, oldest): (i64, Option<String>) =
        sqlx::query_as("SELECT COUNT(*), MIN(recorded_at) FROM events WHERE seq > ?")
            .bind(after.seq)
            .fetch_one(pool)
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
