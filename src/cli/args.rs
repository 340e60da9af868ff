//! The command line's arguments: the clap types, their value parsers, and what `serve`'s flags
//! make of the environment.

use super::CliResult;
use crate::auth::{AuthConfig, Role};
use crate::config::Config;
use crate::db::DatabaseUrl;
use crate::projections::{parse_capabilities, Definition, DEFAULT_BATCH_SIZE};
use crate::subscriptions::WebhookConfig;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "freightdesk",
    version,
    about = "Event-sourced freight shipments with an operator console",
    after_help = "ENVIRONMENT: every flag can also be set by the variable named in its help. \
                  RUST_LOG sets the log filter (default info). LEPTOS_SITE_ROOT, \
                  LEPTOS_SITE_PKG_DIR and LEPTOS_OUTPUT_NAME say where the browser bundle is \
                  served from (set by `make run`)."
)]
pub struct Cli {
    /// postgres://user[:password]@host:port/db, or sqlite:PATH (created by serve if missing).
    #[arg(long, env = "DATABASE_URL", default_value = DatabaseUrl::DEFAULT, global = true)]
    pub database_url: String,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console and run this node's projections (the default).
    Serve(ServeArgs),
    /// Look at or act on projection versions.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Schedule realistic shipments with whole lifecycles, through the real command path.
    Seed {
        #[arg(long)]
        shipments: u64,
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..))]
        concurrency: u64,
    },
    /// Manage who may sign in. Passwords are read from a prompt or standard input, never
    /// from an argument.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage webhook subscriptions (as the console's Subscriptions page does).
    #[command(subcommand)]
    Subscriptions(SubscriptionsCommand),
    /// Take the event log out as JSON Lines, or put it back into an empty store.
    #[command(subcommand)]
    Events(super::events::EventsCommand),
    /// Move this installation (the --database-url SQLite file) into an empty PostgreSQL
    /// database: the event log, users with their password hashes, subscriptions with their
    /// secrets, deliveries and checkpoints, projection settings and audit trails. The read
    /// models are rebuilt there from the log and compared with the old ones row by row.
    Migrate(super::migrate::MigrateArgs),
}

impl Cli {
    /// True when the command writes its data to standard output, so logs must go to
    /// standard error.
    pub fn writes_data_to_stdout(&self) -> bool {
        matches!(
            self.command,
            Some(Command::Events(super::events::EventsCommand::Export(_)))
        )
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FREIGHTDESK_ADDR", default_value = Config::DEFAULT_ADDR)]
    pub addr: String,
    /// This node's name in the node registry (default hostname:pid).
    #[arg(long, env = "FREIGHTDESK_NODE")]
    pub node: Option<String>,
    /// Projection versions this node may run, e.g. shipment_board@1,daily_shipments@1
    /// (default: all of them).
    #[arg(long, env = "FREIGHTDESK_PROJECTIONS")]
    pub projections: Option<String>,
    /// Events applied per projection transaction (1 to 100000).
    #[arg(long, env = "FREIGHTDESK_BATCH_SIZE", default_value_t = DEFAULT_BATCH_SIZE,
          value_parser = clap::value_parser!(i64).range(1..=100_000))]
    pub batch_size: i64,
    /// Mark the session cookie Secure (set it when the console is served over HTTPS).
    #[arg(long, env = "FREIGHTDESK_SECURE_COOKIES",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub secure_cookies: bool,
    /// A bearer token that may read /metrics without a session (for Prometheus).
    #[arg(long, env = "FREIGHTDESK_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Hours without a request after which a session ends.
    #[arg(long, env = "FREIGHTDESK_SESSION_IDLE_HOURS", default_value_t = 12)]
    pub session_idle_hours: u64,
    /// Let webhooks target private, loopback and link-local addresses (on-premises receivers).
    #[arg(long, env = "FREIGHTDESK_WEBHOOK_ALLOW_PRIVATE",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub webhook_allow_private: bool,
    /// Milliseconds one webhook attempt may take, connect to last byte.
    #[arg(long, env = "FREIGHTDESK_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub webhook_timeout_ms: u64,
    /// Milliseconds before the first retry of a failed delivery (doubled per retry, at most 10 min).
    #[arg(long, env = "FREIGHTDESK_WEBHOOK_RETRY_BASE_MS", default_value_t = 2_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub webhook_retry_base_ms: u64,
    /// Deliveries of one subscription in flight at once.
    #[arg(long, env = "FREIGHTDESK_WEBHOOK_CONCURRENCY", default_value_t = 4,
          value_parser = clap::value_parser!(u64).range(1..=64))]
    pub webhook_concurrency: u64,
    #[command(flatten)]
    pub http: crate::config::HttpArgs,
}

#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// State, checkpoint, head, lag, rate, node, rebuild progress and error of every version.
    Status,
    /// Rebuild a version from the first event beside its current table (NAME@VERSION).
    Rebuild {
        #[arg(value_parser = parse_definition)]
        version: Definition,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user; the password is asked for (or read from standard input).
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The name shown in the console (default: NAME).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Set a user's password (ends their sessions).
    SetPassword { name: String },
    /// Disable a user (ends their sessions; they can no longer sign in).
    Disable { name: String },
    /// Let a disabled user sign in again (with the password they had).
    Enable { name: String },
    /// List the users.
    List,
}

#[derive(Debug, Subcommand)]
pub enum SubscriptionsCommand {
    /// Subscribe a URL to shipment events; prints the signing secret (shown only this once).
    Add {
        name: String,
        /// Where deliveries are POSTed (http or https).
        #[arg(long)]
        url: String,
        /// Event types, comma-separated (default: every shipment event).
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        /// Only shipments whose origin or destination contains this text.
        #[arg(long, default_value = "")]
        place: String,
        /// Attempts per delivery before it is dead-lettered (default 8).
        #[arg(long, default_value = "")]
        max_attempts: String,
        /// Allow a private, loopback or link-local target (as FREIGHTDESK_WEBHOOK_ALLOW_PRIVATE).
        #[arg(long, env = "FREIGHTDESK_WEBHOOK_ALLOW_PRIVATE",
              value_parser = clap::builder::BoolishValueParser::new())]
        allow_private: bool,
    },
    /// Every subscription with its state, checkpoint, lag and delivery counts.
    List,
    /// Stop reading and sending until resumed (nothing is lost).
    Pause {
        name: String,
    },
    Resume {
        name: String,
    },
    /// Deliver again every matching event from a position or a UTC time (e.g. 2026-11-28T14:30).
    Rewind {
        name: String,
        #[arg(long)]
        to: String,
    },
    /// Delete a subscription and its deliveries.
    Remove {
        name: String,
    },
}

fn parse_definition(key: &str) -> Result<Definition, String> {
    Definition::parse(key).ok_or_else(|| {
        let known: Vec<String> = Definition::ALL.iter().map(Definition::key).collect();
        format!(
            "unknown projection version {key:?} (known: {})",
            known.join(", ")
        )
    })
}

fn parse_role(role: &str) -> Result<Role, String> {
    Role::from_input(role).map_err(|e| e.message)
}

impl ServeArgs {
    /// The server's settings: these flags, checked, over the parsed database URL.
    pub fn config(&self, database_url: DatabaseUrl) -> Result<Config, String> {
        let addr: SocketAddr = self.addr.parse().map_err(|_| {
            format!(
                "address {:?} is not HOST:PORT (e.g. 127.0.0.1:3000)",
                self.addr
            )
        })?;
        let capabilities = parse_capabilities(self.projections.as_deref())
            .map_err(|e| format!("FREIGHTDESK_PROJECTIONS: {e}"))?;
        Ok(Config {
            database_url,
            addr,
            node: self.node.clone().unwrap_or_else(Config::default_node_name),
            capabilities,
            batch_size: self.batch_size,
            auth: AuthConfig {
                idle: Duration::from_secs(self.session_idle_hours.max(1) * 3600),
                secure_cookies: self.secure_cookies,
                metrics_token: self.metrics_token.clone().filter(|t| !t.trim().is_empty()),
                ..AuthConfig::default()
            },
            webhooks: WebhookConfig {
                allow_private_targets: self.webhook_allow_private,
                timeout: Duration::from_millis(self.webhook_timeout_ms),
                retry_base: Duration::from_millis(self.webhook_retry_base_ms),
                concurrency: usize::try_from(self.webhook_concurrency).unwrap_or(4),
                ..WebhookConfig::default()
            },
            http: self.http.config()?,
        })
    }

    /// `freightdesk` with no command: serve, configured by the environment alone.
    pub(super) fn default_from_env() -> CliResult<Self> {
        match Cli::try_parse_from(["freightdesk", "serve"])?.command {
            Some(Command::Serve(args)) => Ok(args),
            _ => Err("cannot read the serve settings".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("freightdesk").chain(args.iter().copied()))
    }

    #[test]
    fn commands_parse() {
        assert!(parse(&[]).unwrap().command.is_none());
        match parse(&[
            "serve",
            "--addr",
            "127.0.0.1:4000",
            "--projections",
            "shipment_board@1",
        ])
        .unwrap()
        .command
        {
            Some(Command::Serve(args)) => {
                let config = args
                    .config(DatabaseUrl::parse(DatabaseUrl::DEFAULT).unwrap())
                    .unwrap();
                assert_eq!(config.addr.to_string(), "127.0.0.1:4000");
                assert_eq!(config.capabilities, vec![Definition::ShipmentBoardV1]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(&["projections", "rebuild", "shipment_board@2"])
                .unwrap()
                .command,
            Some(Command::Projections(ProjectionsCommand::Rebuild {
                version: Definition::ShipmentBoardV2
            }))
        ));
        assert!(matches!(
            parse(&["seed", "--shipments", "10"]).unwrap().command,
            Some(Command::Seed { shipments: 10, .. })
        ));
        assert!(matches!(
            parse(&["users", "add", "ana", "--role", "admin"])
                .unwrap()
                .command,
            Some(Command::Users(UsersCommand::Add {
                role: Role::Admin,
                ..
            }))
        ));
        let missing = parse(&["projections", "rebuild"]).unwrap_err().to_string();
        assert!(missing.contains("<VERSION>"), "{missing}");
        let unknown = parse(&["projections", "rebuild", "x@1"])
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("unknown projection version"), "{unknown}");
        assert!(parse(&["seed"]).is_err());
        assert!(parse(&["users", "add", "ana", "--role", "root"]).is_err());
        assert!(parse(&["frobnicate"]).is_err());
        match parse(&["serve", "--addr", "nope"]).unwrap().command {
            Some(Command::Serve(args)) => assert!(args
                .config(DatabaseUrl::parse(DatabaseUrl::DEFAULT).unwrap())
                .unwrap_err()
                .contains("HOST:PORT")),
            other => panic!("{other:?}"),
        }
    }
}
