//! The HTTP server: the router, the routes that are not pages or server functions, and
//! serving with a graceful shutdown.

mod limits;
mod live;
mod metrics;

pub use limits::MAX_BODY_BYTES;
pub use metrics::prometheus_text;

use crate::app::{shell, App};
use crate::config::Config;
use crate::state::{AppState, StartupError};
use crate::store::EventStore;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/live/shipments/{id}", get(live::shipment_feed))
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
        .layer(middleware::from_fn(limits::server_fn_status))
        // Bodies without a declared length are cut off here as they stream in.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        // Outermost: a declared oversize is answered before anything else reads the request.
        .layer(middleware::from_fn(limits::refuse_declared_oversize))
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

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("cannot start the projection daemon: {0}")]
    Daemon(#[from] sqlx::Error),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
}

pub async fn serve(config: Config) -> Result<(), ServeError> {
    let state = AppState::build(&config).await?;
    tracing::info!(
        database = %config.database_url,
        backend = state.store.backend_name(),
        "database ready"
    );
    let daemon = state.start_daemon(&config).await?;
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
