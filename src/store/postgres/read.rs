//! The snapshot-delta reader (see `store/checkpoint.rs` for why the checkpoint is a snapshot).
//!
//! Every read is one statement, so the snapshot it returns is the one its rows were read in.
//! "New since the checkpoint" is two index range probes of `events (tx_id, seq)`: transactions
//! at or after the seen snapshot's `xmax`, and those in its in-progress list (bound as an
//! array). Within a read, events come in `seq` order; per stream that is version order, since
//! an append takes its seq after it holds the stream's row.

use super::super::checkpoint::{Checkpoint, Toward, TxSnapshot};
use super::super::{Batch, StoreError};
use super::{recorded, EVENT_COLUMNS};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

/// The events a checkpoint has not read, by its seen snapshot (binds $1 xmax, $2 xip): two
/// index range probes, for a read of what is new since a recent snapshot.
const NEW_SINCE_SEEN: &str = "(tx_id >= $1::text::xid8 OR tx_id = ANY($2::text[]::xid8[]))";

/// The seen snapshot's bounds as bound parameters: before the first read, everything is new.
fn seen_binds(checkpoint: &Checkpoint) -> (String, Vec<String>) {
    match &checkpoint.seen {
        Some(s) => (
            s.xmax.to_string(),
            s.xip.iter().map(ToString::to_string).collect(),
        ),
        None => ("0".to_string(), Vec::new()),
    }
}

/// Up to `limit` events the checkpoint has not read, and the checkpoint after them. Empty
/// exactly when there is nothing new to read.
///
/// Two shapes, each planned for its values (not a named prepared statement, whose generic plan
/// would not know which shape of work it is doing):
/// - what is new since a seen snapshot, toward this statement's own snapshot: the two index
///   probes of `NEW_SINCE_SEEN`, sorted by seq (small: it is what arrived since the last read);
/// - a page toward a fixed target (catch-up, rebuild, the first read): a walk of the primary
///   key from the page's seq, the snapshots only filtering, so each page costs its own rows.
pub(super) async fn read_all(
    pool: &PgPool,
    after: &Checkpoint,
    limit: i64,
) -> Result<Batch, StoreError> {
    let rows = match (&after.seen, &after.toward) {
        (Some(_), None) => {
            let (xmax, xip) = seen_binds(after);
            let sql = format!(
                "SELECT pg_current_snapshot()::text AS target, page.*
                 FROM (SELECT 1) AS one LEFT JOIN LATERAL (
                     SELECT {EVENT_COLUMNS} FROM events
                     WHERE {NEW_SINCE_SEEN}
                     ORDER BY seq LIMIT $3
                 ) page ON true"
            );
            sqlx::query(&sql)
                .persistent(false)
                .bind(xmax)
                .bind(xip)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }
        (seen, toward) => {
            let sql = format!(
                "WITH target AS (
                     SELECT COALESCE($2::text::pg_snapshot, pg_current_snapshot()) AS snapshot)
                 SELECT target.snapshot::text AS target, page.*
                 FROM target LEFT JOIN LATERAL (
                     SELECT {EVENT_COLUMNS} FROM events
                     WHERE seq > $3
                       AND ($1::text IS NULL OR NOT pg_visible_in_snapshot(tx_id, $1::text::pg_snapshot))
                       AND pg_visible_in_snapshot(tx_id, target.snapshot)
                     ORDER BY seq LIMIT $4
                 ) page ON true"
            );
            sqlx::query(&sql)
                .persistent(false)
                .bind(seen.as_ref().map(ToString::to_string))
                .bind(toward.as_ref().map(|t| t.snapshot.to_string()))
                .bind(toward.as_ref().map_or(0, |t| t.after_seq))
                .bind(limit)
                .fetch_all(pool)
                .await?
        }
    };
    let target = target_of(&rows)?;
    let events_rows: Vec<PgRow> = rows
        .into_iter()
        .filter(|r| matches!(r.try_get::<Option<i64>, _>("seq"), Ok(Some(_))))
        .collect();
    let events = recorded(events_rows)?;
    let highest = events.iter().map(|e| e.position.seq).max();
    let seq = highest.map_or(after.seq, |h| h.max(after.seq));
    let next = match events.last() {
        // A full page: the rest of the target is read in the next pages.
        Some(last) if events.len() as i64 >= limit => Checkpoint {
            seen: after.seen.clone(),
            toward: Some(Toward {
                snapshot: target,
                after_seq: last.position.seq,
            }),
            seq,
        },
        // Everything the target sees is read.
        _ => Checkpoint {
            seen: Some(target),
            toward: None,
            seq,
        },
    };
    if events.is_empty() && after.toward.is_some() {
        // The pages ended exactly at the last one: what is new since the target, now.
        return Box::pin(read_all(pool, &next, limit)).await;
    }
    Ok(Batch { events, next })
}

fn target_of(rows: &[PgRow]) -> Result<TxSnapshot, StoreError> {
    let text: String = match rows.first() {
        Some(row) => row.try_get("target")?,
        None => return Err(StoreError::Database(sqlx::Error::RowNotFound)),
    };
    text.parse().map_err(
        |e: super::super::checkpoint::BadCheckpoint| StoreError::Corrupt {
            event_id: "(snapshot)".into(),
            message: e.to_string(),
        },
    )
}

/// How many committed events the checkpoint has not read, and when the oldest was recorded.
pub(super) async fn backlog(
    pool: &PgPool,
    after: &Checkpoint,
) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
    let (xmax, xip) = seen_binds(after);
    let (target, after_seq) = match &after.toward {
        Some(t) => (Some(t.snapshot.to_string()), t.after_seq),
        None => (None, 0),
    };
    let sql = format!(
        "SELECT COUNT(*), MIN(COALESCE(appended_at, recorded_at)) FROM events
         WHERE {NEW_SINCE_SEEN}
           AND NOT COALESCE(seq <= $4 AND pg_visible_in_snapshot(tx_id, $3::text::pg_snapshot), false)"
    );
    Ok(sqlx::query_as(&sql)
        .persistent(false)
        .bind(xmax)
        .bind(xip)
        .bind(target)
        .bind(after_seq)
        .fetch_one(pool)
        .await?)
}

/// The transaction that wrote the event with sequence number `seq`, if there is one.
pub(super) async fn tx_of_event(pool: &PgPool, seq: i64) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT tx_id::text::bigint FROM events WHERE seq = $1")
            .bind(seq)
            .fetch_optional(pool)
            .await?,
    )
}

/// A checkpoint that has read everything committed now.
pub(super) async fn head(pool: &PgPool) -> Result<Checkpoint, StoreError> {
    let row = sqlx::query(
        "SELECT pg_current_snapshot()::text AS target,
                (SELECT COALESCE(MAX(seq), 0) FROM events) AS seq",
    )
    .fetch_all(pool)
    .await?;
    let seq = row.first().map(|r| r.try_get("seq")).transpose()?;
    Ok(Checkpoint {
        seen: Some(target_of(&row)?),
        toward: None,
        seq: seq.unwrap_or(0),
    })
}

/// A checkpoint whose next read starts with the event `seq`: of what is committed now, the
/// events before it count as read; everything else (that event on, and events committed
/// later whatever their seq) is read again.
pub(super) async fn before_event(
    pool: &PgPool,
    seq: i64,
) -> Result<Option<Checkpoint>, StoreError> {
    let rows =
        sqlx::query("SELECT pg_current_snapshot()::text AS target FROM events WHERE seq = $1")
            .bind(seq)
            .fetch_all(pool)
            .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(Checkpoint {
        seen: None,
        toward: Some(Toward {
            snapshot: target_of(&rows)?,
            after_seq: seq - 1,
        }),
        seq: seq - 1,
    }))
}
