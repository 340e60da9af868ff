//! How one process is configured: where its database is, where it listens, which projection
//! versions it may run. Read from flags and the environment by `cli`, used by `server`.

use crate::auth::{AuthConfig, TrustedProxies};
use crate::db::DatabaseUrl;
use crate::projections::Definition;
use crate::subscriptions::WebhookConfig;
use std::net::SocketAddr;
use std::time::Duration;

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
    /// How long clients may take, how many live streams they may hold, which proxies we believe.
    pub http: HttpConfig,
}

/// The server's defences against slow and greedy clients, and what it believes of proxies.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// A request's line and headers must arrive within this, counted from when the server
    /// starts waiting for them (so it also bounds the wait for the next request on a
    /// kept-alive connection).
    pub header_read_timeout: Duration,
    /// A request's body must arrive whole within this, counted from its headers.
    pub body_read_timeout: Duration,
    /// A kept-alive connection with no request in flight is closed after this. The header
    /// timeout bounds that wait as well, so only a shorter idle timeout makes a difference.
    pub idle_timeout: Duration,
    /// Live-update streams (`/live/...`) one session may hold open at once.
    pub live_streams_per_session: usize,
    /// Live-update streams the whole server holds open at once.
    pub live_streams_total: usize,
    /// Proxies whose `X-Forwarded-For` is believed (for sign-in throttling and logs).
    pub trusted_proxies: TrustedProxies,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(5),
            // A person with a handful of tabs open; each page holds at most one stream.
            live_streams_per_session: 16,
            live_streams_total: 2000,
            trusted_proxies: TrustedProxies::default(),
        }
    }
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

/// The flags (and variables) that set [`HttpConfig`]; flattened into `serve`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct HttpArgs {
    /// Seconds a client may take to send a request's line and headers (also the longest wait
    /// for the next request on a kept-alive connection).
    #[arg(long, env = "FREIGHTDESK_HEADER_READ_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout_secs: u64,
    /// Seconds a client may take to send a request's body, counted from its headers.
    #[arg(long, env = "FREIGHTDESK_BODY_READ_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_read_timeout_secs: u64,
    /// Seconds a kept-alive connection may wait for its next request.
    #[arg(long, env = "FREIGHTDESK_IDLE_TIMEOUT_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub idle_timeout_secs: u64,
    /// Live-update streams one session may hold open at once (past it: 429).
    #[arg(long, env = "FREIGHTDESK_LIVE_STREAMS_PER_SESSION", default_value_t = 16,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub live_streams_per_session: u64,
    /// Live-update streams the server holds open at once (past it: 503).
    #[arg(long, env = "FREIGHTDESK_LIVE_STREAMS_TOTAL", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub live_streams_total: u64,
    /// Reverse proxies whose X-Forwarded-For is believed, comma-separated IPs or CIDRs
    /// (e.g. 10.0.0.5,192.168.0.0/16). Without it the header is ignored.
    #[arg(long, env = "FREIGHTDESK_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
}

impl HttpArgs {
    pub fn config(&self) -> Result<HttpConfig, String> {
        let trusted_proxies = TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| format!("FREIGHTDESK_TRUSTED_PROXIES: {e}"))?;
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Ok(HttpConfig {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            body_read_timeout: Duration::from_secs(self.body_read_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            live_streams_per_session: count(self.live_streams_per_session),
            live_streams_total: count(self.live_streams_total),
            trusted_proxies,
        })
    }
}
