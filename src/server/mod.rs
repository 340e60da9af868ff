//! The HTTP server: the router, the routes that are not pages or server functions, and
//! serving with a graceful shutdown.

mod compression;
mod connections;
mod download;
mod headers;
mod health;
mod limits;
mod live;
mod metrics;
mod port_holder;
mod static_files;

use connections::serve_connections;
pub use limits::MAX_BODY_BYTES;
pub use live::{LiveStreamRefused, LiveStreams};
pub use metrics::prometheus_text;

use crate::app::{shell, App};
use crate::config::{Config, HttpConfig};
use crate::state::{AppState, StartupError, Workers};
use crate::time::Clock;
use axum::middleware;
use axum::routing::get;
use axum::{Extension, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// The routes that are neither pages nor server functions. The router registers exactly these
/// (and the policy test walks them), so none can be added without a policy entry.
pub const PLAIN_ROUTES: [&str; 5] = [
    "/healthz",
    "/metrics",
    "/live/shipments/{id}",
    "/live/board",
    "/events/download",
];

/// The whole application: every route, behind the limits and headers `http` asks for.
fn router(state: AppState, http: &HttpConfig) -> Router {
    let secure = state.auth.config().secure_cookies;
    let app = routes(state.clone())
        .layer(Extension(LiveStreams::new(
            http.live_streams_per_session,
            http.live_streams_total,
        )))
        .layer(middleware::from_fn(limits::server_fn_status))
        // Bodies without a declared length are cut off here as they stream in (read_body_in_time
        // enforces the same limit further out; this one holds whatever reads the body).
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        // Who may do what: the policy table, on every route, before any handler runs.
        .layer(middleware::from_fn_with_state(
            state.auth.clone(),
            crate::auth::enforce_policy,
        ))
        .layer(middleware::from_fn(crate::auth::refuse_cross_site))
        .layer(middleware::from_fn_with_state(
            limits::BodyReadTimeout(http.body_read_timeout),
            limits::read_body_in_time,
        ))
        // A declared oversize is answered before anything else reads the request.
        .layer(middleware::from_fn(limits::refuse_declared_oversize))
        .layer(middleware::from_fn_with_state(
            http.trusted_proxies.clone(),
            crate::auth::client_addr::identify_client,
        ))
        // Before anything that reads a session: while the database is known to be away, a
        // request gets its 503 at once instead of after the pool's acquire timeout.
        .layer(middleware::from_fn_with_state(
            health::DatabaseWatch::start(state.store.clone()),
            health::fail_fast_while_away,
        ));
    let [nosniff, referrer, frames, policy] = headers::layers();
    let app = app
        .layer(middleware::from_fn(headers::page_policy))
        .layer(policy)
        .layer(frames)
        .layer(referrer)
        .layer(nosniff);
    let app = if secure {
        app.layer(middleware::from_fn(headers::https_only))
    } else {
        app
    };
    // Outermost: it compresses the response every other layer has finished.
    app.layer(compression::layer())
}

/// The pages, server functions and plain routes, before any layer.
fn routes(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let handlers = [
        get(health::healthz),
        get(metrics::metrics),
        get(live::shipment_feed),
        get(live::board_feed),
        get(download::events_download),
    ];
    let plain = PLAIN_ROUTES
        .into_iter()
        .zip(handlers)
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler)
        });
    plain
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
        .fallback(static_files::file_or_page)
        .with_state(state)
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("cannot start the projection daemon: {0}")]
    Daemon(#[from] sqlx::Error),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    /// The address is taken: who has it, and how to choose another.
    #[error("{0}")]
    AddressTaken(String),
}

/// A built server: state, workers, router and a bound listener, not yet serving. `serve` and
/// the tests build it the same way (zero-to-production's `Application::build`), so a test app
/// is wired exactly as a running one.
pub struct Application {
    state: AppState,
    workers: Workers,
    router: Router,
    listener: TcpListener,
    http: HttpConfig,
}

impl Application {
    /// Binds `config.addr`, opens the database and starts this node's workers. The address
    /// comes first: a taken port is said at once, before anything else starts.
    pub async fn build(config: &Config, clock: Clock) -> Result<Self, ServeError> {
        let listener = match TcpListener::bind(config.addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                return Err(ServeError::AddressTaken(port_holder::explain_taken(
                    config.addr,
                )))
            }
            bound => bound?,
        };
        let state = AppState::build(config, clock).await?;
        tracing::info!(
            database = %config.database_url,
            backend = %state.store.dialect(),
            "database ready"
        );
        let workers = state.start_workers(config).await?;
        let router = router(state.clone(), &config.http);
        Ok(Self {
            state,
            workers,
            router,
            listener,
            http: config.http.clone(),
        })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes and every connection has finished. The workers come
    /// back apart: `serve` stops them after the last connection, a test may stop them sooner.
    pub fn serve_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> (impl Future<Output = ()> + Send, Workers) {
        let Self {
            workers,
            router,
            listener,
            http,
            ..
        } = self;
        let serving = async move { serve_connections(listener, router, &http, shutdown).await };
        (serving, workers)
    }
}

pub async fn serve(config: Config) -> Result<(), ServeError> {
    let app = Application::build(&config, Clock::system()).await?;
    let local = app.local_addr()?;
    tracing::info!("listening on http://{local}");
    let state = app.state().clone();
    announce_setup_link(&state, local).await;
    let (serving, workers) = app.serve_until(async move {
        shutdown_signal().await;
        state.stop();
    });
    serving.await;
    workers.shutdown().await;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// On a database without users, prints (once) the link that creates the first admin. The
/// token lives in memory only: it dies with the process or when used.
async fn announce_setup_link(state: &AppState, local: SocketAddr) {
    match state.auth.setup_token_if_no_users().await {
        Ok(Some(token)) => {
            let link = format!("http://{local}/setup?token={token}");
            tracing::info!("no users yet: open the set-up link to create the first admin");
            // Plain text on stderr as well, so `make run` shows it whatever the log filter.
            eprintln!(
                "\n  ┌─ First run ──────────────────────────────────────────────\n  │ No users yet. Create the first admin here (valid until used\n  │ or until this process stops):\n  │\n  │   {link}\n  └──────────────────────────────────────────────────────────\n"
            );
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot tell whether any user exists"),
    }
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
