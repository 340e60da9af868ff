//! Whether this node should get traffic, answered within about a second.
//!
//! While PostgreSQL is away, a request that needs it waits out the pool's acquire timeout
//! (5 s) before its 503, and a load balancer whose health check times out first sees a hang,
//! not "unavailable". So a watch pings the database every second (each ping bounded by a
//! second); `/healthz` answers from a ping of its own bounded the same way; and while the watch
//! knows the database is away, requests that would need it get their 503 at once.

use crate::error::AppError;
use crate::store::EventStore;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::server_fn::error::FromServerFnError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How long a ping may take before the database counts as away, and how often the watch pings.
const PING_BOUND: Duration = Duration::from_secs(1);

/// What the watch last saw. It pings for as long as someone holds it.
#[derive(Clone)]
pub struct DatabaseWatch {
    away: Arc<AtomicBool>,
}

impl DatabaseWatch {
    pub fn start(store: EventStore) -> Self {
        let away = Arc::new(AtomicBool::new(false));
        tokio::spawn(watch(store, Arc::downgrade(&away)));
        Self { away }
    }

    pub fn is_away(&self) -> bool {
        self.away.load(Ordering::Relaxed)
    }
}

async fn watch(store: EventStore, away: Weak<AtomicBool>) {
    loop {
        tokio::time::sleep(PING_BOUND).await;
        let answered = answers_in_time(&store).await;
        let Some(away) = away.upgrade() else {
            return;
        };
        if away.swap(!answered, Ordering::Relaxed) == answered {
            match answered {
                true => tracing::info!("the database answers again"),
                false => tracing::warn!("the database is not answering; requests get 503 at once"),
            }
        }
    }
}

async fn answers_in_time(store: &EventStore) -> bool {
    matches!(
        tokio::time::timeout(PING_BOUND, store.ping()).await,
        Ok(Ok(()))
    )
}

/// 200 only when the database answers within the bound and this node is not stopping.
pub async fn healthz(
    State(store): State<EventStore>,
    State(stopping): State<tokio::sync::watch::Receiver<bool>>,
) -> Response {
    if *stopping.borrow() {
        return (StatusCode::SERVICE_UNAVAILABLE, "stopping\n").into_response();
    }
    match answers_in_time(&store).await {
        true => (StatusCode::OK, "ok\n").into_response(),
        false => {
            tracing::warn!("health check: database not answering");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

/// While the watch knows the database is away, a page or server function is answered 503 at
/// once (with `Retry-After`), in the form its caller reads (a server function's error body, or
/// plain text). Static files and the health check do not need the database and pass.
pub async fn fail_fast_while_away(
    State(watch): State<DatabaseWatch>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let needs_database = !(path == "/healthz" || path.starts_with("/pkg/"));
    if !(needs_database && watch.is_away()) {
        return next.run(request).await;
    }
    // Nothing ran: for a change (any method but GET) that means nothing was saved.
    let saving = request.method() != axum::http::Method::GET;
    let error = AppError::Unavailable { saving };
    let mut response = if path.starts_with("/api/") {
        (StatusCode::SERVICE_UNAVAILABLE, error.ser()).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, format!("{error}\n")).into_response()
    };
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("2"),
    );
    response
}
