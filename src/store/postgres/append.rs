//! The PostgreSQL append and import: each one statement (or one transaction) over arrays.

use super::super::backend::{Append, Outcome};
use super::super::{Appended, ExpectedVersion, ImportedStream};
use crate::db::encode_error;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use std::sync::LazyLock;
use uuid::Uuid;

/// The whole version-checked append as one statement, one round trip: the stream row's update
/// (or insert, for a new stream) is the version check and comes first, and writes the snapshot
/// in the same row; the events are inserted only from its result, so a loser takes no sequence
/// number. Other processes hear of it after the commit (see `announcer`). No row back: a
/// mismatch.
fn append_sql(claim: &str) -> String {
    format!(
        "WITH claimed AS ({claim}),
         inserted AS (
             INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata, recorded_at)
             SELECT e.id, $1, claimed.base + e.ord, e.event_type, e.schema_version, e.data, $8, $9
             FROM claimed,
                  UNNEST($4::uuid[], $5::text[], $6::int4[], $7::jsonb[])
                      WITH ORDINALITY AS e(id, event_type, schema_version, data, ord)
             ORDER BY e.ord
             RETURNING seq),
         last AS (SELECT max(seq) AS seq FROM inserted)
         SELECT claimed.base, last.seq FROM claimed, last"
    )
}

/// An import as the arrays its UNNESTs read, one per column.
#[derive(Default)]
struct ImportColumns {
    stream_ids: Vec<Uuid>,
    kinds: Vec<String>,
    versions: Vec<i64>,
    created_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
    event_ids: Vec<Uuid>,
    event_streams: Vec<Uuid>,
    event_versions: Vec<i64>,
    event_types: Vec<String>,
    schema_versions: Vec<i32>,
    data: Vec<serde_json::Value>,
    metadata: Vec<serde_json::Value>,
    recorded_at: Vec<DateTime<Utc>>,
    /// One per stream, `None` where it has no snapshot.
    snapshots: Vec<Option<serde_json::Value>>,
}

impl ImportColumns {
    fn of(streams: &[ImportedStream]) -> Result<Self, sqlx::Error> {
        let mut c = ImportColumns::default();
        for s in streams {
            let count = s.events.len() as i64;
            c.stream_ids.push(s.stream_id);
            c.kinds.push(s.kind.clone());
            c.versions.push(count);
            c.created_at.push(s.first_at());
            c.updated_at.push(s.last_at());
            let metadata = serde_json::to_value(&s.metadata).map_err(encode_error)?;
            for (i, e) in s.events.iter().enumerate() {
                c.event_ids.push(Uuid::new_v4());
                c.event_streams.push(s.stream_id);
                c.event_versions.push(i as i64 + 1);
                c.event_types.push(e.event.event_type.clone());
                c.schema_versions.push(e.event.schema_version);
                c.data.push(e.event.data.clone());
                c.metadata.push(metadata.clone());
                c.recorded_at.push(e.recorded_at);
            }
            c.snapshots.push(s.snapshot.clone());
        }
        Ok(c)
    }
}

pub(super) async fn try_append(pool: &PgPool, append: &Append<'_>) -> Result<Outcome, sqlx::Error> {
    static APPEND_EXISTING: LazyLock<String> = LazyLock::new(|| {
        append_sql(
            "UPDATE streams SET version = version + $3, updated_at = $9,
                     snapshot_version = CASE WHEN $10::jsonb IS NULL THEN snapshot_version
                                             ELSE version + $3 END,
                     snapshot = COALESCE($10::jsonb, snapshot)
                 WHERE id = $1 AND version = $2::bigint RETURNING version - $3 AS base",
        )
    });
    static APPEND_NEW: LazyLock<String> = LazyLock::new(|| {
        append_sql(
            "INSERT INTO streams (id, kind, version, created_at, updated_at, snapshot_version,
                                  snapshot)
                 VALUES ($1, $2::text, $3, $9, $9, CASE WHEN $10::jsonb IS NULL THEN NULL ELSE $3 END,
                         $10::jsonb)
                 ON CONFLICT (id) DO NOTHING RETURNING 0::bigint AS base",
        )
    });
    let count = append.events.len() as i64;
    let metadata = serde_json::to_value(append.metadata).map_err(encode_error)?;
    let ids: Vec<Uuid> = append.events.iter().map(|_| Uuid::new_v4()).collect();
    let types: Vec<&str> = append
        .events
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    let schemas: Vec<i32> = append.events.iter().map(|e| e.schema_version).collect();
    let data: Vec<&serde_json::Value> = append.events.iter().map(|e| &e.data).collect();
    let query = match append.expected {
        ExpectedVersion::Exactly(version) => sqlx::query(&APPEND_EXISTING)
            .bind(append.stream_id)
            .bind(version),
        ExpectedVersion::NoStream => sqlx::query(&APPEND_NEW)
            .bind(append.stream_id)
            .bind(append.kind),
    };
    let row = query
        .bind(count)
        .bind(ids)
        .bind(types)
        .bind(schemas)
        .bind(data)
        .bind(metadata)
        .bind(append.recorded_at)
        .bind(append.snapshot)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else {
        return Ok(match append.expected {
            ExpectedVersion::NoStream => Outcome::StreamExists,
            ExpectedVersion::Exactly(_) => Outcome::VersionMismatch,
        });
    };
    let base: i64 = row.try_get(0)?;
    Ok(Outcome::Appended(Appended {
        stream_id: append.stream_id,
        first_version: base + 1,
        version: base + count,
        last_seq: row.try_get(1)?,
    }))
}

pub(super) async fn import(
    pool: &PgPool,
    streams: &[ImportedStream],
) -> Result<Outcome, sqlx::Error> {
    let columns = ImportColumns::of(streams)?;
    let mut tx = pool.begin().await?;
    let created = sqlx::query(
        "INSERT INTO streams (id, kind, version, created_at, updated_at, snapshot_version,
                              snapshot)
             SELECT id, kind, version, at, last_at, CASE WHEN state IS NULL THEN NULL ELSE version END,
                    state
             FROM UNNEST($1::uuid[], $2::text[], $3::int8[], $4::timestamptz[], $5::timestamptz[],
                         $6::jsonb[])
                 AS s(id, kind, version, at, last_at, state)
             ON CONFLICT (id) DO NOTHING",
    )
    .bind(&columns.stream_ids)
    .bind(&columns.kinds)
    .bind(&columns.versions)
    .bind(&columns.created_at)
    .bind(&columns.updated_at)
    .bind(&columns.snapshots)
    .execute(&mut *tx)
    .await?;
    if created.rows_affected() != streams.len() as u64 {
        return Ok(Outcome::StreamExists);
    }
    let last_seq: i64 = sqlx::query_scalar(
            "WITH inserted AS (
                 INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata, recorded_at, appended_at)
                 SELECT id, stream_id, version, event_type, schema_version, data, metadata, recorded_at, now()
                 FROM UNNEST($1::uuid[], $2::uuid[], $3::int8[], $4::text[], $5::int4[], $6::jsonb[],
                             $7::jsonb[], $8::timestamptz[])
                     WITH ORDINALITY AS e(id, stream_id, version, event_type, schema_version, data,
                                          metadata, recorded_at, ord)
                 ORDER BY ord
                 RETURNING seq)
             SELECT max(seq) FROM inserted",
        )
        .bind(&columns.event_ids)
        .bind(&columns.event_streams)
        .bind(&columns.event_versions)
        .bind(&columns.event_types)
        .bind(&columns.schema_versions)
        .bind(&columns.data)
        .bind(&columns.metadata)
        .bind(&columns.recorded_at)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    let last = streams.last().expect("at least one stream");
    Ok(Outcome::Appended(Appended {
        stream_id: last.stream_id,
        first_version: 1,
        version: last.events.len() as i64,
        last_seq,
    }))
}
