//! How one process is configured: where its database is, where it listens, which projection
//! versions it may run. Read from flags and the environment by `cli`, used by `server`.

use crate::auth::AuthConfig;
use crate::db::DatabaseUrl;
use crate::projections::Definition;
use crate::subscriptions::WebhookConfig;
use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub addr: SocketAddr,
    /// This node's name in the node registry.
    pub node: String,
    /// The projection versions this node may run.
    pub capabilities: Vec<Definition>,
    /// Events per projection transaction.
    pub batch_size: i64,
    /// Sessions, cookies and the metrics token.
    pub auth: AuthConfig,
    /// Where webhook deliveries may go, their timeout, retries and concurrency.
    pub webhooks: WebhookConfig,
}

impl Config {
    pub const DEFAULT_ADDR: &'static str = "127.0.0.1:3000";

    /// `hostname:pid`, unique enough for a registry of running processes.
    pub fn default_node_name() -> String {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "localhost".to_string());
        format!("{host}:{}", std::process::id())
    }
}
