//! The stored log on PostgreSQL: a page read for export, and the whole-log import (one
//! transaction; positions kept, then the sequence moved past them).

use super::super::stored_log::{
    self, ImportedLog, LogChunks, LogImportError, StoredEvent, StoredLogPage,
};
use super::super::StoreError;
use super::EXPLORER_CASTS;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row};
use uuid::Uuid;

fn stored_event(row: &PgRow) -> Result<StoredEvent, sqlx::Error> {
    Ok(StoredEvent {
        seq: row.try_get(0)?,
        id: row.try_get(1)?,
        stream_id: row.try_get(2)?,
        stream_kind: row.try_get(3)?,
        version: row.try_get(4)?,
        event_type: row.try_get(5)?,
        schema_version: row.try_get(6)?,
        data: row.try_get(7)?,
        metadata: row.try_get(8)?,
        recorded_at: row.try_get(9)?,
    })
}

pub(super) async fn read_page(
    pool: &PgPool,
    page: &StoredLogPage,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows = stored_log::select::<Postgres>(page, &EXPLORER_CASTS)
        .build()
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(stored_event).collect::<Result<_, _>>()?)
}

pub(super) async fn import(
    pool: &PgPool,
    mut chunks: LogChunks,
) -> Result<ImportedLog, LogImportError> {
    let mut tx = pool.begin().await?;
    // Taken first, so two imports into one database cannot interleave.
    sqlx::query("LOCK TABLE streams, events IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&mut *tx)
        .await?;
    if events > 0 {
        return Err(LogImportError::NotEmpty { events });
    }
    let mut imported = ImportedLog::default();
    while let Some(chunk) = chunks.recv().await {
        let chunk = chunk.map_err(LogImportError::Abandoned)?;
        let new_streams: Vec<&StoredEvent> = chunk.iter().filter(|e| e.version == 1).collect();
        sqlx::query(
            "INSERT INTO streams (id, kind, version, created_at, updated_at)
                 SELECT id, kind, 0, at, at
                 FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[]) AS s(id, kind, at)",
        )
        .bind(new_streams.iter().map(|e| e.stream_id).collect::<Vec<_>>())
        .bind(
            new_streams
                .iter()
                .map(|e| e.stream_kind.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            new_streams
                .iter()
                .map(|e| e.recorded_at)
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO events (seq, id, stream_id, version, event_type, schema_version, data, metadata, recorded_at, appended_at)
                 SELECT u.*, now() FROM UNNEST($1::int8[], $2::uuid[], $3::uuid[], $4::int8[], $5::text[],
                                      $6::int4[], $7::jsonb[], $8::jsonb[], $9::timestamptz[]) AS u",
        )
        .bind(chunk.iter().map(|e| e.seq).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| e.id).collect::<Vec<Uuid>>())
        .bind(chunk.iter().map(|e| e.stream_id).collect::<Vec<Uuid>>())
        .bind(chunk.iter().map(|e| e.version).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| e.schema_version).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| &e.data).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| &e.metadata).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|e| e.recorded_at)
                .collect::<Vec<DateTime<Utc>>>(),
        )
        .execute(&mut *tx)
        .await?;
        imported.events += chunk.len() as u64;
        imported.streams += new_streams.len() as u64;
        imported.last_seq = chunk.last().map_or(imported.last_seq, |e| e.seq);
    }
    // Each stream's version and last change, from the events it now has.
    sqlx::query(
        "UPDATE streams SET version = e.version, updated_at = e.last_at
             FROM (SELECT stream_id, MAX(version) AS version, MAX(recorded_at) AS last_at
                   FROM events GROUP BY stream_id) AS e
             WHERE streams.id = e.stream_id",
    )
    .execute(&mut *tx)
    .await?;
    // The next append draws a seq after the imported ones.
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('events', 'seq'), GREATEST(MAX(seq), 1), MAX(seq) IS NOT NULL)
             FROM events",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(imported)
}
