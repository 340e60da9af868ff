//! The SQLite append (one script in one call to SQLite's thread) and import.

use super::super::backend::{Append, Outcome};
use super::super::{Appended, ExpectedVersion, ImportedStream, NewEvent};
use crate::db::{encode_error, time_text, WriteTurns};
use serde::Serialize;
use sqlx::{QueryBuilder, Sqlite, SqlitePool, Transaction};
use std::sync::LazyLock;
use uuid::Uuid;

const ROWS_PER_STATEMENT: usize = 1000;

/// The whole version-checked append as one script, sent to SQLite's thread in one call (each
/// statement sent on its own costs a hop to that thread and back, more than SQLite's own work):
/// take the write lock, claim the versions (the stream row's update, or its insert for a new
/// stream), insert the events only if the claim took one row (`changes()`), so a loser takes
/// no sequence number, store the snapshot only if every event went in, commit. Parameters:
/// $1 stream, $2 expected version, $3 event count, $4 metadata, $5 time, $6 the events (JSON),
/// $7 the snapshot or NULL, $8 the kind of a new stream. The sequence numbers come back; none
/// means the claim failed.
fn append_script(claim: &str) -> String {
    format!(
        "BEGIN IMMEDIATE;
         {claim};
         INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata, recorded_at)
             SELECT e.value ->> 'id', $1, $2 + e.key + 1, e.value ->> 'event_type',
                    e.value ->> 'schema_version', e.value ->> 'data', $4, $5
             FROM json_each($6) AS e WHERE changes() = 1 ORDER BY e.key
             RETURNING seq;
         INSERT INTO snapshots (stream_id, version, state)
             SELECT $1, $2 + $3, $7 WHERE $7 IS NOT NULL AND changes() = $3
             ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, state = excluded.state;
         COMMIT"
    )
}

static APPEND_EXISTING: LazyLock<String> = LazyLock::new(|| {
    append_script(
        "UPDATE streams SET version = version + $3, updated_at = $5 WHERE id = $1 AND version = $2",
    )
});
static APPEND_NEW: LazyLock<String> = LazyLock::new(|| {
    append_script(
        "INSERT INTO streams (id, kind, version, created_at, updated_at) VALUES ($1, $8, $3, $5, $5)
         ON CONFLICT (id) DO NOTHING",
    )
});

/// One event as the append script reads it; `data` is the JSON text, stored as given.
#[derive(Serialize)]
struct EventJson<'a> {
    id: String,
    event_type: &'a str,
    schema_version: i32,
    data: String,
}

/// One event row as SQLite stores it (ids, times and JSON as text).
struct EventRow<'a> {
    stream_id: &'a str,
    version: i64,
    event: &'a NewEvent,
    metadata: &'a str,
    recorded_at: &'a str,
}

/// Inserts imported rows in order with multi-row INSERTs, appended now whatever their recorded
/// times; returns the last sequence number.
async fn insert_events(
    tx: &mut Transaction<'static, Sqlite>,
    rows: &[EventRow<'_>],
) -> Result<i64, sqlx::Error> {
    let mut last_seq = 0;
    let appended_at = time_text(chrono::Utc::now());
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut sql = QueryBuilder::<Sqlite>::new(
            "INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata, recorded_at, appended_at) ",
        );
        sql.push_values(chunk, |mut row, e| {
            row.push_bind(Uuid::new_v4().to_string())
                .push_bind(e.stream_id)
                .push_bind(e.version)
                .push_bind(e.event.event_type.as_str())
                .push_bind(e.event.schema_version)
                .push_bind(e.event.data.to_string())
                .push_bind(e.metadata)
                .push_bind(e.recorded_at)
                .push_bind(appended_at.as_str());
        });
        sql.push(" RETURNING seq");
        let seqs: Vec<i64> = sql.build_query_scalar().fetch_all(&mut **tx).await?;
        last_seq = seqs.into_iter().max().unwrap_or(last_seq);
    }
    Ok(last_seq)
}

pub(super) async fn try_append(
    pool: &SqlitePool,
    turns: &WriteTurns,
    append: &Append<'_>,
) -> Result<Outcome, sqlx::Error> {
    let count = append.events.len() as i64;
    let base = append.base();
    let events: Vec<EventJson> = append
        .events
        .iter()
        .map(|e| {
            Ok(EventJson {
                id: Uuid::new_v4().to_string(),
                event_type: &e.event_type,
                schema_version: e.schema_version,
                data: serde_json::to_string(&e.data)?,
            })
        })
        .collect::<Result<_, serde_json::Error>>()
        .map_err(encode_error)?;
    let script = match append.expected {
        ExpectedVersion::NoStream => &*APPEND_NEW,
        ExpectedVersion::Exactly(_) => &*APPEND_EXISTING,
    };
    let mut query = sqlx::query_scalar::<_, i64>(script)
        .bind(append.stream_id.to_string())
        .bind(base)
        .bind(count)
        .bind(serde_json::to_string(append.metadata).map_err(encode_error)?)
        .bind(time_text(append.recorded_at))
        .bind(serde_json::to_string(&events).map_err(encode_error)?)
        .bind(append.snapshot.map(|s| s.to_string()));
    if append.expected == ExpectedVersion::NoStream {
        query = query.bind(append.kind.to_string());
    }
    // The script opens its own transaction, which sqlx does not know of: if the caller
    // went away part-way (a client that hung up), the connection would go back to the pool
    // inside it, holding the write lock. So it runs in a task of its own, to the end.
    let (turns, pool) = (turns.clone(), pool.clone());
    let run = tokio::spawn(async move {
        // This process's writers take turns before asking SQLite (see `WriteTurns`).
        let _turn = turns.wait().await?;
        let mut conn = pool.acquire().await?;
        match query.fetch_all(&mut *conn).await {
            Ok(seqs) => Ok(seqs),
            Err(e) => {
                // Stopped part-way, maybe inside its transaction: end that before the
                // connection serves anyone else, or close it.
                if sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err() {
                    let _ = conn.close().await;
                }
                Err(e)
            }
        }
    });
    let seqs = run
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("the append task stopped: {e}")))??;
    let Some(&last_seq) = seqs.iter().max() else {
        return Ok(match append.expected {
            ExpectedVersion::NoStream => Outcome::StreamExists,
            ExpectedVersion::Exactly(_) => Outcome::VersionMismatch,
        });
    };
    Ok(Outcome::Appended(Appended {
        stream_id: append.stream_id,
        first_version: base + 1,
        version: base + count,
        last_seq,
    }))
}

pub(super) async fn import(
    pool: &SqlitePool,
    turns: &WriteTurns,
    streams: &[ImportedStream],
) -> Result<Outcome, sqlx::Error> {
    // This process's writers take turns before asking SQLite (see `WriteTurns`).
    let _turn = turns.wait().await?;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let ids: Vec<String> = streams.iter().map(|s| s.stream_id.to_string()).collect();
    for chunk in (0..streams.len())
        .collect::<Vec<_>>()
        .chunks(ROWS_PER_STATEMENT)
    {
        let mut sql = QueryBuilder::<Sqlite>::new(
            "INSERT INTO streams (id, kind, version, created_at, updated_at) ",
        );
        sql.push_values(chunk, |mut row, &i| {
            let s = &streams[i];
            row.push_bind(&ids[i])
                .push_bind(&s.kind)
                .push_bind(s.events.len() as i64)
                .push_bind(time_text(s.first_at()))
                .push_bind(time_text(s.last_at()));
        });
        sql.push(" ON CONFLICT (id) DO NOTHING");
        let created = sql.build().execute(&mut *tx).await?;
        if created.rows_affected() != chunk.len() as u64 {
            return Ok(Outcome::StreamExists);
        }
    }
    let mut texts = Vec::with_capacity(streams.len());
    for s in streams {
        let metadata = serde_json::to_string(&s.metadata).map_err(encode_error)?;
        let times: Vec<String> = s.events.iter().map(|e| time_text(e.recorded_at)).collect();
        texts.push((metadata, times));
    }
    let mut rows = Vec::new();
    for ((s, id), (metadata, times)) in streams.iter().zip(&ids).zip(&texts) {
        for (i, (e, at)) in s.events.iter().zip(times).enumerate() {
            rows.push(EventRow {
                stream_id: id,
                version: i as i64 + 1,
                event: &e.event,
                metadata,
                recorded_at: at,
            });
        }
    }
    let last_seq = insert_events(&mut tx, &rows).await?;
    for chunk in streams
        .iter()
        .zip(&ids)
        .filter(|(s, _)| s.snapshot.is_some())
        .collect::<Vec<_>>()
        .chunks(ROWS_PER_STATEMENT)
    {
        let mut sql =
            QueryBuilder::<Sqlite>::new("INSERT INTO snapshots (stream_id, version, state) ");
        sql.push_values(chunk, |mut row, (s, id)| {
            row.push_bind(id.as_str())
                .push_bind(s.events.len() as i64)
                .push_bind(s.snapshot.as_ref().map(|v| v.to_string()));
        });
        sql.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    let last = streams.last().expect("at least one stream");
    Ok(Outcome::Appended(Appended {
        stream_id: last.stream_id,
        first_version: 1,
        version: last.events.len() as i64,
        last_seq,
    }))
}
