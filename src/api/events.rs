//! The event explorer: the whole log, newest first, filtered and paged from a position.

// Each argument of `list_events` is one field of the flat form the API takes (a struct would
// nest them), and the server macro copies the signature into code an outer `allow` misses.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn;
use serde::{Deserialize, Serialize};

/// Events per page of the explorer.
pub const LOG_PAGE_SIZE: i64 = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRow {
    /// The event's position in the global log.
    pub seq: i64,
    pub shipment_id: String,
    pub version: i64,
    pub event_type: String,
    pub actor: String,
    pub recorded_at: DateTime<Utc>,
    /// The event itself, for its one-line summary; `None` if it cannot be read as a shipment
    /// event (the row still lists, with its type).
    pub event: Option<crate::domain::ShipmentEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogView {
    pub rows: Vec<LogRow>,
    /// `before=` for the next (older) page, if there is one.
    pub older: Option<i64>,
    /// `after=` for the previous (newer) page, if there is one.
    pub newer: Option<i64>,
}

/// The log, newest first. All fields optional: `event_type` (one of the stored type names),
/// `actor` (a user name), `stream` (a shipment id), `from` / `to` (`2026-12-01T08:00` in
/// `zone`, default UTC, or RFC 3339), and `before` / `after`: a page's `older` / `newer`.
#[server(endpoint = "events/list")]
pub async fn list_events(
    #[server(default)] event_type: String,
    #[server(default)] actor: String,
    #[server(default)] stream: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] zone: String,
    #[server(default)] before: String,
    #[server(default)] after: String,
) -> Result<LogView, AppError> {
    use crate::store::explorer::{LogPage, LogQuery};
    crate::auth::require_access(<ListEvents as ServerFn>::PATH)?;
    let state = super::context::app_state()?;
    let filter = parse::query(&parse::Raw {
        event_type: &event_type,
        actor: &actor,
        stream: &stream,
        from: &from,
        to: &to,
        zone: &zone,
        before: &before,
        after: &after,
    })
    .map_err(AppError::invalid)?;
    let query = LogQuery {
        limit: LOG_PAGE_SIZE + 1,
        ..filter
    };
    let mut rows = state.store.read_log_backwards(&query).await?;
    // One row more than a page says whether more lie in the direction of reading.
    let more = rows.len() as i64 > LOG_PAGE_SIZE;
    match query.page {
        Some(LogPage::NewerThan(_)) if more => {
            rows.remove(0);
        }
        _ => rows.truncate(LOG_PAGE_SIZE as usize),
    }
    let (first, last) = (rows.first().map(|r| r.seq), rows.last().map(|r| r.seq));
    let (newer, older) = match query.page {
        None => (None, last.filter(|_| more)),
        Some(LogPage::OlderThan(_)) => (first, last.filter(|_| more)),
        Some(LogPage::NewerThan(_)) => (first.filter(|_| more), last),
    };
    Ok(LogView {
        rows: rows
            .into_iter()
            .map(|e| LogRow {
                event: crate::domain::ShipmentEvent::from_json(&e.event_type, &e.data).ok(),
                seq: e.seq,
                shipment_id: e.stream_id.to_string(),
                version: e.version,
                event_type: e.event_type,
                actor: e.actor,
                recorded_at: e.recorded_at,
            })
            .collect(),
        older,
        newer,
    })
}

/// The explorer's fields parsed into a query (also read by the download, `server::download`).
#[cfg(feature = "ssr")]
pub(crate) mod parse {
    use crate::domain::{FieldError, ShipmentEvent, ShipmentId};
    use crate::store::explorer::{LogPage, LogQuery};
    use crate::zone::Zone;

    pub struct Raw<'a> {
        pub event_type: &'a str,
        pub actor: &'a str,
        pub stream: &'a str,
        pub from: &'a str,
        pub to: &'a str,
        pub zone: &'a str,
        pub before: &'a str,
        pub after: &'a str,
    }

    /// Keeps a field's value, or its error for the answer.
    fn keep<T>(errors: &mut Vec<FieldError>, parsed: Result<Option<T>, FieldError>) -> Option<T> {
        parsed.unwrap_or_else(|e| {
            errors.push(e);
            None
        })
    }

    fn text(s: &str) -> Option<String> {
        Some(s.trim().to_string()).filter(|s| !s.is_empty())
    }

    fn position(field: &str, s: &str) -> Result<Option<i64>, FieldError> {
        text(s)
            .map(|s| {
                s.parse::<i64>()
                    .map(Some)
                    .map_err(|_| FieldError::new(field, "is not a log position"))
            })
            .unwrap_or(Ok(None))
    }

    /// Every field parsed, each bad one reported by its own name.
    pub fn query(raw: &Raw) -> Result<LogQuery, Vec<FieldError>> {
        let mut errors = Vec::new();
        let event_type = match text(raw.event_type) {
            Some(t) if !ShipmentEvent::TYPES.contains(&t.as_str()) => Err(FieldError::new(
                "event_type",
                format!("{t:?} is not an event type"),
            )),
            t => Ok(t),
        };
        let event_type = keep(&mut errors, event_type);
        let stream = text(raw.stream)
            .map(|s| {
                ShipmentId::parse(&s)
                    .map(|id| Some(id.as_uuid()))
                    .map_err(|_| FieldError::new("stream", "is not a shipment id"))
            })
            .unwrap_or(Ok(None));
        let stream = keep(&mut errors, stream);
        let zone = match text(raw.zone) {
            None => Ok(Some(Zone::Utc)),
            Some(z) => Zone::parse(&z)
                .map(Some)
                .ok_or_else(|| FieldError::new("from", format!("{z:?} is not a time zone"))),
        };
        let zone = keep(&mut errors, zone).unwrap_or_default();
        let time = |field: &str, s: &str| {
            text(s)
                .map(|s| zone.parse_form_time(field, &s).map(Some))
                .unwrap_or(Ok(None))
        };
        let from = keep(&mut errors, time("from", raw.from));
        let to = keep(&mut errors, time("to", raw.to));
        let before = keep(&mut errors, position("before", raw.before));
        let after = keep(&mut errors, position("after", raw.after));
        let page = match (before, after) {
            (Some(_), Some(_)) => {
                errors.push(FieldError::new("after", "give before or after, not both"));
                None
            }
            (Some(seq), None) => Some(LogPage::OlderThan(seq)),
            (None, Some(seq)) => Some(LogPage::NewerThan(seq)),
            (None, None) => None,
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(LogQuery {
            event_type,
            actor: text(raw.actor),
            stream,
            from,
            to,
            page,
            limit: 0,
        })
    }
}
