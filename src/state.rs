//! The application state every handler and server function reaches: built once at start.

use crate::auth::Auth;
use crate::config::Config;
use crate::database::{Database, OpenError};
use crate::db::PortableDb;
use crate::projections::queries::SearchCounts;
use crate::projections::{Daemon, DaemonHandle};
use crate::store::{EventStore, StoreError};
use crate::subscriptions::{SubscriptionRunner, SubscriptionRunnerHandle, WebhookConfig};
use crate::time::Clock;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;
use tokio::sync::watch;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: EventStore,
    /// The portable-SQL pool: projection catalog, read models, audit, nodes.
    pub db: PortableDb,
    /// Users, sessions, sign-in.
    pub auth: Auth,
    /// Board searches' match counts, remembered while what they counted is unchanged.
    pub search_counts: SearchCounts,
    /// What webhook subscriptions may target (checked when one is created).
    pub webhooks: WebhookConfig,
    /// "Now" and the workers' intervals: the system's in production, a test's own in tests.
    pub clock: Clock,
    /// Flips to true when the server is stopping, so long-lived responses (live feeds) end.
    pub stopping: watch::Receiver<bool>,
    stop: Arc<watch::Sender<bool>>,
}

/// Start-up errors: printed once, and the process exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("configuration: {0}")]
    Leptos(String),
    #[error("cannot build the webhook HTTP client: {0}")]
    WebhookClient(#[from] reqwest::Error),
}

/// This node's background work: the projection daemon and the webhook subscriptions.
pub struct Workers {
    projections: DaemonHandle,
    subscriptions: SubscriptionRunnerHandle,
}

impl Workers {
    pub async fn shutdown(self) {
        self.subscriptions.shutdown().await;
        self.projections.shutdown().await;
    }
}

impl AppState {
    pub async fn build(config: &Config, clock: Clock) -> Result<AppState, StartupError> {
        let Database { store, db } = Database::open(&config.database_url).await?;
        let mut leptos_options = leptos::config::get_configuration(None)
            .map_err(|e| StartupError::Leptos(e.to_string()))?
            .leptos_options;
        if leptos_options.output_name.is_empty() {
            // Same name as `output-name` in Cargo.toml, for runs without cargo-leptos or `make`.
            leptos_options.output_name = "freightdesk".into();
        }
        leptos_options.site_addr = config.addr;
        let (stop, stopping) = watch::channel(false);
        let auth = Auth::new(db.clone(), config.auth.clone()).with_clock(clock.clone());
        Ok(AppState {
            leptos_options,
            store,
            db,
            auth,
            search_counts: SearchCounts::default(),
            webhooks: config.webhooks.clone(),
            clock,
            stopping,
            stop: Arc::new(stop),
        })
    }

    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Starts this node's projection daemon (for the versions it may run) and its share of the
    /// webhook subscriptions.
    pub async fn start_workers(&self, config: &Config) -> Result<Workers, StartupError> {
        let projections = Daemon::new(
            self.store.clone(),
            self.db.clone(),
            config.node.clone(),
            config.capabilities.clone(),
        )
        .with_batch_size(config.batch_size)
        .with_clock(self.clock.clone())
        .start()
        .await?;
        let subscriptions = SubscriptionRunner::new(
            self.store.clone(),
            self.db.clone(),
            config.node.clone(),
            config.webhooks.clone(),
        )?
        .with_clock(self.clock.clone())
        .start();
        Ok(Workers {
            projections,
            subscriptions,
        })
    }
}
