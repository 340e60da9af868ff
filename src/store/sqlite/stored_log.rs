//! The stored log on SQLite: a page read for export, and the whole-log import (one
//! `BEGIN IMMEDIATE` transaction; positions kept: `AUTOINCREMENT` continues after them).

use super::super::stored_log::{
    self, ImportedLog, LogChunks, LogImportError, StoredEvent, StoredLogPage,
};
use super::super::StoreError;
use super::EXPLORER_CASTS;
use crate::db::{parse_time, time_text, WriteTurns};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use uuid::Uuid;

/// Rows per multi-row INSERT: 9 parameters each stays far below SQLite's limit of 32,766.
const ROWS_PER_STATEMENT: usize = 1000;

fn stored_event(row: &SqliteRow) -> Result<StoredEvent, StoreError> {
    let seq: i64 = row.try_get(0)?;
    let corrupt = |message: String| StoreError::Corrupt {
        event_id: format!("(seq {seq})"),
        message,
    };
    let uuid = |s: String| Uuid::parse_str(&s).map_err(|e| corrupt(e.to_string()));
    let json = |s: String| serde_json::from_str(&s).map_err(|e| corrupt(e.to_string()));
    Ok(StoredEvent {
        seq,
        id: uuid(row.try_get(1)?)?,
        stream_id: uuid(row.try_get(2)?)?,
        stream_kind: row.try_get(3)?,
        version: row.try_get(4)?,
        event_type: row.try_get(5)?,
        schema_version: row.try_get(6)?,
        data: json(row.try_get(7)?)?,
        metadata: json(row.try_get(8)?)?,
        recorded_at: parse_time(&row.try_get::<String, _>(9)?).map_err(corrupt)?,
    })
}

pub(super) async fn read_page(
    pool: &SqlitePool,
    page: &StoredLogPage,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows = stored_log::select::<Sqlite>(page, &EXPLORER_CASTS)
        .build()
        .fetch_all(pool)
        .await?;
    rows.iter().map(stored_event).collect()
}

pub(super) async fn import(
    pool: &SqlitePool,
    turns: &WriteTurns,
    mut chunks: LogChunks,
) -> Result<ImportedLog, LogImportError> {
    // This process's writers take turns before asking SQLite (see `WriteTurns`).
    let _turn = turns.wait().await?;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&mut *tx)
        .await?;
    if events > 0 {
        return Err(LogImportError::NotEmpty { events });
    }
    let mut imported = ImportedLog::default();
    // Imported events keep their recorded times; lag counts from when they came in.
    let appended_at = time_text(chrono::Utc::now());
    while let Some(chunk) = chunks.recv().await {
        let chunk = chunk.map_err(LogImportError::Abandoned)?;
        for rows in chunk.chunks(ROWS_PER_STATEMENT) {
            let new_streams: Vec<&StoredEvent> = rows.iter().filter(|e| e.version == 1).collect();
            if !new_streams.is_empty() {
                let mut sql = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO streams (id, kind, version, created_at, updated_at) ",
                );
                sql.push_values(&new_streams, |mut row, e| {
                    let at = time_text(e.recorded_at);
                    row.push_bind(e.stream_id.to_string())
                        .push_bind(e.stream_kind.clone())
                        .push_bind(0_i64)
                        .push_bind(at.clone())
                        .push_bind(at);
                });
                sql.build().execute(&mut *tx).await?;
                imported.streams += new_streams.len() as u64;
            }
            let mut sql = QueryBuilder::<Sqlite>::new(
                "INSERT INTO events (seq, id, stream_id, version, event_type, schema_version, data, metadata, recorded_at, appended_at) ",
            );
            sql.push_values(rows, |mut row, e| {
                row.push_bind(e.seq)
                    .push_bind(e.id.to_string())
                    .push_bind(e.stream_id.to_string())
                    .push_bind(e.version)
                    .push_bind(e.event_type.clone())
                    .push_bind(e.schema_version)
                    .push_bind(e.data.to_string())
                    .push_bind(e.metadata.to_string())
                    .push_bind(time_text(e.recorded_at))
                    .push_bind(appended_at.clone());
            });
            sql.build().execute(&mut *tx).await?;
        }
        imported.events += chunk.len() as u64;
        imported.last_seq = chunk.last().map_or(imported.last_seq, |e| e.seq);
    }
    // Each stream's version and last change, from the events it now has.
    sqlx::query(
        "UPDATE streams SET
             version = (SELECT MAX(version) FROM events WHERE events.stream_id = streams.id),
             updated_at = (SELECT MAX(recorded_at) FROM events WHERE events.stream_id = streams.id)",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(imported)
}
