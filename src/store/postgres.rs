//! PostgreSQL backend.
//!
//! Gap safety: sequence numbers are taken in append order but transactions commit in any order,
//! so "all events after seq N" could skip an event whose transaction commits late. Every event
//! row stores its transaction id (`xid8`); a reader only takes rows whose transaction is older
//! than the oldest one still running (`pg_snapshot_xmin`), so no row can still appear below the
//! reader's position, and it orders and checkpoints by (tx_id, seq). No timers, no skipped events.

use super::{
    into_recorded_all, AppendError, Appended, Conflict, EventMetadata, ExpectedVersion, NewEvent,
    Position, RawEvent, RecordedEvent, StoreError,
};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Row, Transaction};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

pub const APPEND_CHANNEL: &str = "freightdesk_events";

pub async fn connect(url: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url)?.application_name("freightdesk");
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(pool)
}

/// Forwards NOTIFYs from every process that appends to this database into `appended`.
pub async fn spawn_listener(
    pool: PgPool,
    appended: broadcast::Sender<Appended>,
) -> Result<(), StoreError> {
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(APPEND_CHANNEL).await?;
    tokio::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(notification) => {
                    match serde_json::from_str::<Appended>(notification.payload()) {
                        Ok(a) => {
                            let _ = appended.send(a);
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

#[allow(clippy::too_many_arguments)]
pub async fn append(
    pool: &PgPool,
    stream_id: Uuid,
    kind: &str,
    expected: ExpectedVersion,
    events: &[NewEvent],
    metadata: &EventMetadata,
    recorded_at: DateTime<Utc>,
) -> Result<Appended, AppendError> {
    let count = events.len() as i64;
    let mut tx = pool.begin().await?;
    let base = claim_versions(&mut tx, stream_id, kind, expected, count).await?;
    let metadata_json = serde_json::to_value(metadata).expect("metadata serializes");
    let mut last_seq = 0;
    for (i, event) in events.iter().enumerate() {
        let inserted = sqlx::query(
            "INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
        )
        .bind(Uuid::new_v4())
        .bind(stream_id)
        .bind(base + 1 + i as i64)
        .bind(&event.event_type)
        .bind(event.schema_version)
        .bind(&event.data)
        .bind(&metadata_json)
        .bind(recorded_at)
        .fetch_one(&mut *tx)
        .await;
        match inserted {
            Ok(row) => last_seq = row.get::<i64, _>(0),
            Err(e) if is_unique_violation(&e) => {
                // The backstop: only reachable if something bypassed the stream row.
                drop(tx);
                return Err(conflict(pool, stream_id, base).await);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let appended = Appended {
        stream_id,
        first_version: base + 1,
        version: base + count,
        last_seq,
    };
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(APPEND_CHANNEL)
        .bind(serde_json::to_string(&appended).expect("serializes"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(appended)
}

/// The first write of an append: moves the stream's version from `expected` to `expected + n`
/// (or creates the stream). Returns the version before the append.
async fn claim_versions(
    tx: &mut Transaction<'_, Postgres>,
    stream_id: Uuid,
    kind: &str,
    expected: ExpectedVersion,
    count: i64,
) -> Result<i64, AppendError> {
    match expected {
        ExpectedVersion::NoStream => {
            let created = sqlx::query(
                "INSERT INTO streams (id, kind, version) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(stream_id)
            .bind(kind)
            .bind(count)
            .execute(&mut **tx)
            .await?;
            if created.rows_affected() == 0 {
                return Err(AppendError::StreamAlreadyExists { stream_id });
            }
            Ok(0)
        }
        ExpectedVersion::Exactly(version) => {
            let updated = sqlx::query(
                "UPDATE streams SET version = version + $3, updated_at = now()
                 WHERE id = $1 AND version = $2",
            )
            .bind(stream_id)
            .bind(version)
            .bind(count)
            .execute(&mut **tx)
            .await?;
            if updated.rows_affected() == 0 {
                return Err(conflict_in(tx, stream_id, version).await);
            }
            Ok(version)
        }
    }
}

async fn conflict(pool: &PgPool, stream_id: Uuid, expected: i64) -> AppendError {
    match pool.begin().await {
        Ok(mut tx) => conflict_in(&mut tx, stream_id, expected).await,
        Err(e) => e.into(),
    }
}

/// Builds the conflict report: the stream's actual version and what was appended since.
async fn conflict_in(
    tx: &mut Transaction<'_, Postgres>,
    stream_id: Uuid,
    expected: i64,
) -> AppendError {
    let actual = match stream_version(&mut **tx, stream_id).await {
        Ok(Some(actual)) => actual,
        Ok(None) => return AppendError::StreamNotFound { stream_id },
        Err(e) => return e.into(),
    };
    match read_stream(&mut **tx, stream_id, expected).await {
        Ok(events_since) => AppendError::Conflict(Conflict {
            stream_id,
            expected_version: expected,
            actual_version: actual,
            events_since,
        }),
        Err(e) => e.into(),
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

pub async fn stream_version<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    stream_id: Uuid,
) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT version FROM streams WHERE id = $1")
            .bind(stream_id)
            .fetch_optional(executor)
            .await?,
    )
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

pub async fn read_stream<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    stream_id: Uuid,
    after_version: i64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version"
    ))
    .bind(stream_id)
    .bind(after_version)
    .fetch_all(executor)
    .await?;
    into_recorded_all(rows.iter().map(raw_event).collect::<Result<_, _>>()?)
}

pub async fn read_all(
    pool: &PgPool,
    after: Position,
    limit: i64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events
         WHERE (tx_id, seq) > ($1::text::xid8, $2)
           AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY tx_id, seq
         LIMIT $3"
    ))
    .bind(after.tx.to_string())
    .bind(after.seq)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    into_recorded_all(rows.iter().map(raw_event).collect::<Result<_, _>>()?)
}

pub async fn backlog(
    pool: &PgPool,
    after: Position,
) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*), MIN(recorded_at) FROM events WHERE (tx_id, seq) > ($1::text::xid8, $2)",
    )
    .bind(after.tx.to_string())
    .bind(after.seq)
    .fetch_one(pool)
    .await?)
}
