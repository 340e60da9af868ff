//! Reading the whole log backwards for people (the event explorer): newest first, filtered by
//! event type, actor, stream and time, a page at a time from a position. Not for projections:
//! it makes no gap-safety promise (`read_all` does), it shows what is committed now.

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};
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
    /// The stored event data, for the one-line summary the explorer shows.
    pub data: serde_json::Value,
}

/// How a backend compares a bound uuid and a bound time in this read: its casts around the
/// placeholder, and the time's text form.
pub(super) struct Casts {
    pub uuid: (&'static str, &'static str),
    pub time: (&'static str, &'static str),
    pub time_text: fn(DateTime<Utc>) -> String,
}

/// The one SELECT, written once for both dialects; each backend brings its casts.
pub(super) fn select<'a, DB>(query: &'a LogQuery, d: &Casts) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::<DB>::new(
        "SELECT seq, stream_id, version, event_type, metadata ->> 'actor' AS actor, recorded_at, data FROM events WHERE 1 = 1",
    );
    push_filters(&mut sql, query, d);
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

/// The filters' conditions (event type, actor, stream, time range), each `AND …`: shared by
/// the explorer's read and the export's (`stored_log`), so a download has exactly the rows
/// the page lists.
pub(super) fn push_filters<'a, DB>(sql: &mut QueryBuilder<'a, DB>, query: &'a LogQuery, d: &Casts)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
{
    if let Some(t) = &query.event_type {
        sql.push(" AND event_type = ").push_bind(t.clone());
    }
    if let Some(actor) = &query.actor {
        sql.push(" AND metadata ->> 'actor' = ")
            .push_bind(actor.clone());
    }
    if let Some(stream) = query.stream {
        sql.push(" AND stream_id = ")
            .push(d.uuid.0)
            .push_bind(stream.to_string())
            .push(d.uuid.1);
    }
    for (bound, operator) in [(query.from, " >= "), (query.to, " < ")] {
        if let Some(t) = bound {
            sql.push(" AND recorded_at")
                .push(operator)
                .push(d.time.0)
                .push_bind((d.time_text)(t))
                .push(d.time.1);
        }
    }
}
