//! `GET /events/download`: the event explorer's current filter as a file, streamed a page at a
//! time (`log_file::export_pages`), so the server holds one page whatever the log's length.
//! `format=jsonl` (the default) is the export format `freightdesk events import` reads;
//! `format=csv` is the explorer's summary columns, each cell kept text for spreadsheets. Who may
//! download: whoever may read the explorer (dispatchers and admins, `auth::policy`), since a
//! download holds nothing the pages do not show. No response header carries input: the file
//! names are fixed.

use crate::api::events::parse;
use crate::error::AppError;
use crate::log_file::{csv_row, export_pages, LogLine, CSV_HEADER};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;

/// The explorer's filter fields (as its page puts them in the URL) and the format.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DownloadQuery {
    format: String,
    event_type: String,
    actor: String,
    stream: String,
    from: String,
    to: String,
    zone: String,
}

/// What a download is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    JsonLines,
    Csv,
}

impl Format {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "" | "jsonl" => Some(Format::JsonLines),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Format::JsonLines => "application/x-ndjson; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
        })
    }

    fn disposition(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Format::JsonLines => "attachment; filename=\"freightdesk-events.jsonl\"",
            Format::Csv => "attachment; filename=\"freightdesk-events.csv\"",
        })
    }
}

pub async fn events_download(
    State(state): State<AppState>,
    query: Result<Query<DownloadQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        let message = "the download's query is malformed".to_string();
        return refuse(AppError::BadRequest { message });
    };
    let Some(format) = Format::parse(&query.format) else {
        let error = crate::domain::FieldError::new("format", "is jsonl or csv");
        return refuse(AppError::invalid(vec![error]));
    };
    let filter = match parse::query(&parse::Raw {
        event_type: &query.event_type,
        actor: &query.actor,
        stream: &query.stream,
        from: &query.from,
        to: &query.to,
        zone: &query.zone,
        before: "",
        after: "",
    }) {
        Ok(filter) => filter,
        Err(errors) => return refuse(AppError::invalid(errors)),
    };
    let pages = export_pages(state.store.clone(), filter)
        .map_ok(move |page| {
            let mut text = String::new();
            for event in page {
                match format {
                    Format::JsonLines => {
                        text.push_str(&LogLine::from(event).to_json());
                        text.push('\n');
                    }
                    Format::Csv => text.push_str(&csv_row(&event)),
                }
            }
            Bytes::from(text)
        })
        .inspect_err(|e| tracing::error!(error = %e, "event download stopped part-way"));
    let head = match format {
        Format::Csv => Some(Ok(Bytes::from_static(CSV_HEADER.as_bytes()))),
        Format::JsonLines => None,
    };
    let body = futures::stream::iter(head).chain(pages);
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, format.content_type());
    headers.insert(header::CONTENT_DISPOSITION, format.disposition());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The error as the API answers it: its status and `{"kind": …}` body.
fn refuse(error: AppError) -> Response {
    (error.status_code(), Json(error)).into_response()
}
