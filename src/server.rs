//! The HTTP server: configuration, application state, router, graceful shutdown.

use crate::app::{shell, App};
use crate::error::AppError;
use crate::projections::db::ProjectionDb;
use crate::projections::{Daemon, DaemonHandle, Definition};
use crate::store::EventStore;
use axum::body::Body;
use axum::extract::{FromRef, Path, State};
use axum::http::{Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// Requests larger than this are refused with 413 before any handler runs.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Start-up errors: printed once, and the process exits non-zero.
pub type StartupResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub database_url: String,
    pub addr: SocketAddr,
    /// This node's name in the node registry.
    pub node: String,
    /// The projection versions this node may run.
    pub capabilities: Vec<Definition>,
    /// Events per projection transaction.
    pub batch_size: i64,
}

impl Config {
    pub const DEFAULT_DATABASE_URL: &'static str = "sqlite:data/freightdesk.db";
    pub const DEFAULT_ADDR: &'static str = "127.0.0.1:3000";

    /// `hostname:pid`, unique enough for a registry of running processes.
    pub fn default_node_name() -> String {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "localhost".to_string());
        format!("{host}:{}", std::process::id())
    }
}

/// The database URL with any password replaced, for logs.
pub fn redacted(database_url: &str) -> String {
    match url_password_span(database_url) {
        Some((start, end)) => format!("{}***{}", &database_url[..start], &database_url[end..]),
        None => database_url.to_string(),
    }
}

fn url_password_span(url: &str) -> Option<(usize, usize)> {
    let authority_start = url.find("://")? + 3;
    let authority_end = url[authority_start..]
        .find('/')
        .map_or(url.len(), |i| authority_start + i);
    let at = url[authority_start..authority_end].rfind('@')? + authority_start;
    let colon = url[authority_start..at].find(':')? + authority_start;
    Some((colon + 1, at))
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: EventStore,
    pub projections: ProjectionDb,
    /// Flips to true when the server is stopping, so long-lived responses (live feeds) end.
    pub stopping: watch::Receiver<bool>,
    stop: Arc<watch::Sender<bool>>,
}

impl AppState {
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

/// Creates the SQLite file's folder if needed, so a fresh checkout just works.
pub fn ensure_sqlite_dir(database_url: &str) -> std::io::Result<()> {
    if !database_url.starts_with("sqlite:") {
        return Ok(());
    }
    let path = database_url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    if let Some(dir) = std::path::Path::new(path).parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    Ok(())
}

pub async fn build_state(config: &Config) -> StartupResult<AppState> {
    ensure_sqlite_dir(&config.database_url)?;
    let store = EventStore::connect(&config.database_url).await?;
    let projections = ProjectionDb::connect(&config.database_url).await?;
    let mut leptos_options = get_configuration(None)?.leptos_options;
    if leptos_options.output_name.is_empty() {
        // Same name as `output-name` in Cargo.toml, for runs without cargo-leptos or `make`.
        leptos_options.output_name = "freightdesk".into();
    }
    leptos_options.site_addr = config.addr;
    let (stop, stopping) = watch::channel(false);
    Ok(AppState {
        leptos_options,
        store,
        projections,
        stopping,
        stop: Arc::new(stop),
    })
}

/// Starts this node's projection daemon for the versions it may run.
pub async fn start_daemon(state: &AppState, config: &Config) -> Result<DaemonHandle, sqlx::Error> {
    Daemon::new(
        state.store.clone(),
        state.projections.clone(),
        config.node.clone(),
        config.capabilities.clone(),
    )
    .with_batch_size(config.batch_size)
    .start()
    .await
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/live/shipments/{id}", get(shipment_live))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(server_fn_status))
        // Bodies without a declared length are cut off here as they stream in.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        // Outermost: a declared oversize is answered before anything else reads the request.
        .layer(middleware::from_fn(refuse_declared_oversize))
        .with_state(state)
}

/// 200 only when the database answers.
async fn healthz(State(store): State<EventStore>) -> Response {
    match store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database not answering");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

/// Prometheus text: lag, rate and failures per projection version.
async fn metrics(State(state): State<AppState>) -> Response {
    match crate::api::projections::ssr::overview(&state.store, &state.projections).await {
        Ok(overview) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            crate::api::projections::ssr::prometheus_text(&overview),
        )
            .into_response(),
        Err(e) => (e.status_code(), format!("{e}\n")).into_response(),
    }
}

/// Server-sent events: one message per append to this shipment's stream, from any node.
async fn shipment_live(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures::StreamExt;
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return (StatusCode::NOT_FOUND, "no such shipment\n").into_response();
    };
    let appended = state.store.subscribe();
    let updates = futures::stream::unfold(appended, move |mut appended| async move {
        loop {
            match appended.recv().await {
                Ok(a) if a.stream_id == id => {
                    let event = Event::default().data(a.version.to_string());
                    return Some((Ok::<_, std::convert::Infallible>(event), appended));
                }
                Ok(_) => continue,
                // Missed some: say "something changed" and let the page reload.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return Some((Ok(Event::default().data("?")), appended));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let mut stopping = state.stopping.clone();
    let stopped = async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    Sse::new(updates.take_until(Box::pin(stopped)))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Refuses a body whose declared length is over the limit with 413, after reading (and
/// dropping) what was sent, up to a bound: a server that closes a connection with unread data
/// resets it, and the client would see a broken connection instead of the answer.
async fn refuse_declared_oversize(request: Request<Body>, next: Next) -> Response {
    const DRAIN_AT_MOST: usize = 1024 * 1024;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
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
async fn server_fn_status(request: Request<Body>, next: Next) -> Response {
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

pub async fn serve(config: Config) -> StartupResult<()> {
    let state = build_state(&config).await?;
    tracing::info!(
        database = %redacted(&config.database_url),
        backend = state.store.backend_name(),
        "database ready"
    );
    let daemon = start_daemon(&state, &config).await?;
    let app = router(state.clone());
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            state.stop();
        })
        .await?;
    daemon.shutdown().await;
    tracing::info!("shut down cleanly");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        let cases = [
            (
                "postgres://u:secret@h:5432/db",
                "postgres://u:***@h:5432/db",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("postgres://h/db?x=a:b@c", "postgres://h/db?x=a:b@c"),
            ("sqlite:data/freightdesk.db", "sqlite:data/freightdesk.db"),
        ];
        for (input, want) in cases {
            assert_eq!(redacted(input), want);
        }
    }
}
