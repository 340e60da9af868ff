//! Request limits and the status codes server functions answer with.

use crate::error::AppError;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// Requests larger than this are refused with 413 before any handler runs.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Refuses a body whose declared length is over the limit with 413, after reading (and
/// dropping) what was sent, up to a bound: a server that closes a connection with unread data
/// resets it, and the client would see a broken connection instead of the answer.
pub async fn refuse_declared_oversize(request: Request<Body>, next: Next) -> Response {
    const DRAIN_AT_MOST: usize = 1024 * 1024;
    const DRAIN_FOR_AT_MOST: Duration = Duration::from_secs(5);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let Some(declared) = declared.filter(|n| *n > MAX_BODY_BYTES) else {
        return next.run(request).await;
    };
    if declared <= DRAIN_AT_MOST {
        // Bounded in time too: a client that declares much and sends little gets no hold.
        let drain = axum::body::to_bytes(request.into_body(), DRAIN_AT_MOST);
        let _ = tokio::time::timeout(DRAIN_FOR_AT_MOST, drain).await;
    }
    too_large()
}

/// How long a request's body may take to arrive, counted from its headers.
#[derive(Debug, Clone, Copy)]
pub struct BodyReadTimeout(pub Duration);

/// Reads the body whole, within the timeout, before any handler sees it. A client that sends
/// its headers and then trickles or withholds the body gets 408 and a closed connection,
/// instead of holding a handler (and perhaps a database connection) while it waits. Bodies are
/// at most [`MAX_BODY_BYTES`], so holding one in memory costs little.
pub async fn read_body_in_time(
    State(BodyReadTimeout(timeout)): State<BodyReadTimeout>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) if is_over_limit(&e) => too_large(),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "request body not read");
            closing(
                StatusCode::BAD_REQUEST,
                "the request body could not be read\n",
            )
        }
        Err(_) => {
            tracing::info!(path = %parts.uri.path(), ?timeout, "request body too slow");
            closing(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s\n",
                    timeout.as_secs_f64()
                ),
            )
        }
    }
}

fn is_over_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// An answer after which the connection closes: the rest of the body was never read.
fn closing(status: StatusCode, text: impl Into<String>) -> Response {
    let mut response = (status, text.into()).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "request body too large: at most {} KiB\n",
            MAX_BODY_BYTES / 1024
        ),
    )
        .into_response()
}

/// Server functions answer every error with 500; give API clients the status that says what
/// happened (400, 404, 409, 422, 503). Form posts without JavaScript get a redirect instead and
/// are left alone.
pub async fn server_fn_status(request: Request<Body>, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES * 16).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = error.status_code();
    }
    Response::from_parts(parts, Body::from(bytes))
}
