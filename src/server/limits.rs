//! Request limits and the status codes server functions answer with.

use crate::error::AppError;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Requests larger than this are refused with 413 before any handler runs.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Refuses a body whose declared length is over the limit with 413, after reading (and
/// dropping) what was sent, up to a bound: a server that closes a connection with unread data
/// resets it, and the client would see a broken connection instead of the answer.
pub async fn refuse_declared_oversize(request: Request<Body>, next: Next) -> Response {
    const DRAIN_AT_MOST: usize = 1024 * 1024;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let Some(declared) = declared.filter(|n| *n > MAX_BODY_BYTES) else {
        return next.run(request).await;
    };
    if declared <= DRAIN_AT_MOST {
        let _ = axum::body::to_bytes(request.into_body(), DRAIN_AT_MOST).await;
    }
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
