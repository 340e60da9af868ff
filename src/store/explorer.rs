//! Reading the whole log backwards for people (the event explorer): newest first, filtered by
//! event type, actor, stream and time, a page at a time from a position. Not for projections:
//! it makes no gap-safety promise (`read_all` does), it shows what is committed now.

use super::{EventStore, StoreError};
use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Row, Type};
use uuid::Uuid;

/// What to read. Every filter is optional; `limit` rows at most.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogQuery {
    pub event_type: Option<String>,
    pub actor: Option<String>,
    pub stream: Option<Uuid>,
    /// Recorded at or after.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before.
    pub to: Option<DateTime<Utc>>,
    pub page: Option<LogPage>,
    pub limit: i64,
}

/// Where a page starts: the events older or newer than a position (global seq).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogPage {
    OlderThan(i64),
    NewerThan(i64),
}

/// One event as the explorer lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub seq: i64,
    pub stream_id: Uuid,
    pub version: i64,
    pub event_type: String,
    pub actor: String,
    pub recorded_at: DateTime<Utc>,
}

/// What differs between the dialects for this read: how a uuid and a time are compared.
struct Dialect {
    uuid_param: (&'static str, &'static str),
    time_param: (&'static str, &'static str),
    time_text: fn(DateTime<Utc>) -> String,
}

const POSTGRES: Dialect = Dialect {
    uuid_param: ("CAST(", " AS uuid)"),
    time_param: ("CAST(", " AS timestamptz)"),
    time_text: |t| t.to_rfc3339(),
};

const SQLITE: Dialect = Dialect {
    uuid_param: ("", ""),
    time_param: ("", ""),
    time_text: crate::db::time_text,
};

/// Newest first (also for a page of newer events, which is read upwards and turned around).
pub async fn read_log_backwards(
    store: &EventStore,
    query: &LogQuery,
) -> Result<Vec<LogEntry>, StoreError> {
    let upwards = matches!(query.page, Some(LogPage::NewerThan(_)));
    let mut entries = if let Some(pool) = store.postgres_pool() {
        let mut sql = select(query, &POSTGRES);
        sql.build()
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok(LogEntry {
                    seq: r.try_get("seq")?,
                    stream_id: r.try_get("stream_id")?,
                    version: r.try_get("version")?,
                    event_type: r.try_get("event_type")?,
                    actor: r.try_get::<Option<String>, _>("actor")?.unwrap_or_default(),
                    recorded_at: r.try_get("recorded_at")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    } else if let Some(pool) = store.sqlite_pool() {
        let mut sql = select(query, &SQLITE);
        let corrupt = |e: String| sqlx::Error::Decode(e.into());
        sql.build()
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok(LogEntry {
                    seq: r.try_get("seq")?,
                    stream_id: Uuid::parse_str(&r.try_get::<String, _>("stream_id")?)
                        .map_err(|e| corrupt(e.to_string()))?,
                    version: r.try_get("version")?,
                    event_type: r.try_get("event_type")?,
                    actor: r.try_get::<Option<String>, _>("actor")?.unwrap_or_default(),
                    recorded_at: crate::db::parse_time(&r.try_get::<String, _>("recorded_at")?)
                        .map_err(corrupt)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    } else {
        Vec::new()
    };
    if upwards {
        entries.reverse();
    }
    Ok(entries)
}

/// The one SELECT, written once for both dialects.
fn select<'a, DB>(query: &'a LogQuery, d: &Dialect) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::<DB>::new(
        "SELECT seq, stream_id, version, event_type, metadata ->> 'actor' AS actor, recorded_at FROM events WHERE 1 = 1",
    );
    if let Some(t) = &query.event_type {
        sql.push(" AND event_type = ").push_bind(t.clone());
    }
    if let Some(actor) = &query.actor {
        sql.push(" AND metadata ->> 'actor' = ")
            .push_bind(actor.clone());
    }
    if let Some(stream) = query.stream {
        sql.push(" AND stream_id = ")
            .push(d.uuid_param.0)
            .push_bind(stream.to_string())
            .push(d.uuid_param.1);
    }
    for (bound, operator) in [(query.from, " >= "), (query.to, " < ")] {
        if let Some(t) = bound {
            sql.push(" AND recorded_at")
                .push(operator)
                .push(d.time_param.0)
                .push_bind((d.time_text)(t))
                .push(d.time_param.1);
        }
    }
    let order = match query.page {
        Some(LogPage::OlderThan(seq)) => {
            sql.push(" AND seq < ").push_bind(seq);
            "DESC"
        }
        Some(LogPage::NewerThan(seq)) => {
            sql.push(" AND seq > ").push_bind(seq);
            "ASC"
        }
        None => "DESC",
    };
    sql.push(format_args!(" ORDER BY seq {order} LIMIT "))
        .push_bind(query.limit.clamp(1, 500));
    sql
}
