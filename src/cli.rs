//! The command line: `serve` (default), `projections status`, `projections rebuild NAME@VERSION`,
//! `seed --shipments N`. Parsing is separate from running so it can be tested.

use crate::config::Config;
use crate::db::{DatabaseUrl, PortableDb};
use crate::projections::{parse_capabilities, Definition, DEFAULT_BATCH_SIZE};
use crate::store::EventStore;
use std::net::SocketAddr;

/// Errors of a command: printed once, and the process exits non-zero.
pub type CliResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub const HELP: &str = "\
freightdesk — event-sourced freight shipments with an operator console

USAGE:
    freightdesk [serve] [--addr HOST:PORT] [--database-url URL]
    freightdesk projections status [--database-url URL]
    freightdesk projections rebuild NAME@VERSION [--database-url URL]
    freightdesk seed --shipments N [--concurrency C] [--database-url URL]
    freightdesk --help

ENVIRONMENT (flags win over the environment):
    DATABASE_URL             postgres://user[:password]@host:port/db, or sqlite:PATH.
                             Default: sqlite:data/freightdesk.db (created if missing).
    FREIGHTDESK_ADDR         address to listen on. Default: 127.0.0.1:3000.
    FREIGHTDESK_NODE         this node's name in the node registry. Default: hostname:pid.
    FREIGHTDESK_PROJECTIONS  projection versions this node may run, e.g.
                             shipment_board@1,daily_shipments@1. Default: all of them
                             (shipment_board@1, shipment_board@2, daily_shipments@1).
    FREIGHTDESK_BATCH_SIZE   events applied per projection transaction. Default: 500.
    RUST_LOG                 log filter, e.g. info or freightdesk=debug. Default: info.
    LEPTOS_SITE_ROOT, LEPTOS_SITE_PKG_DIR, LEPTOS_OUTPUT_NAME
                             where the browser bundle is served from (set by `make run`).
";

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Help,
    Serve(Config),
    ProjectionsStatus {
        database_url: DatabaseUrl,
    },
    ProjectionsRebuild {
        database_url: DatabaseUrl,
        version: Definition,
    },
    Seed {
        database_url: DatabaseUrl,
        shipments: u64,
        concurrency: u64,
    },
}

/// Reads arguments and environment into a command, or explains what is wrong.
pub fn parse(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Command, String> {
    let mut database_url = env("DATABASE_URL").unwrap_or_else(|| DatabaseUrl::DEFAULT.into());
    let mut addr = env("FREIGHTDESK_ADDR").unwrap_or_else(|| Config::DEFAULT_ADDR.into());
    let mut shipments = None;
    let mut concurrency = 8;
    let mut words = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = |flag: &str| rest.next().cloned().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "-h" | "--help" | "help" => return Ok(Command::Help),
            "--addr" => addr = value("--addr")?,
            "--database-url" => database_url = value("--database-url")?,
            "--shipments" => {
                let n = value("--shipments")?;
                shipments = Some(
                    n.parse::<u64>()
                        .map_err(|_| format!("--shipments {n:?} is not a count"))?,
                );
            }
            "--concurrency" => {
                let n = value("--concurrency")?;
                concurrency = n
                    .parse::<u64>()
                    .ok()
                    .filter(|c| *c >= 1)
                    .ok_or(format!("--concurrency {n:?} is not a positive count"))?;
            }
            flag if flag.starts_with('-') => return Err(format!("unknown flag {flag:?}")),
            word => words.push(word.to_string()),
        }
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let database_url = DatabaseUrl::parse(&database_url).map_err(|e| e.to_string())?;
    match words.as_slice() {
        [] | ["serve"] => {
            let addr: SocketAddr = addr
                .parse()
                .map_err(|_| format!("address {addr:?} is not HOST:PORT (e.g. 127.0.0.1:3000)"))?;
            let capabilities = parse_capabilities(env("FREIGHTDESK_PROJECTIONS").as_deref())
                .map_err(|e| format!("FREIGHTDESK_PROJECTIONS: {e}"))?;
            let batch_size = match env("FREIGHTDESK_BATCH_SIZE") {
                None => DEFAULT_BATCH_SIZE,
                Some(n) => n
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=100_000).contains(n))
                    .ok_or(format!(
                        "FREIGHTDESK_BATCH_SIZE {n:?} is not a count from 1 to 100000"
                    ))?,
            };
            Ok(Command::Serve(Config {
                database_url,
                addr,
                node: env("FREIGHTDESK_NODE").unwrap_or_else(Config::default_node_name),
                capabilities,
                batch_size,
            }))
        }
        ["projections", "status"] => Ok(Command::ProjectionsStatus { database_url }),
        ["projections", "rebuild", key] => {
            let version = Definition::parse(key).ok_or_else(|| {
                format!("unknown projection version {key:?} (e.g. shipment_board@2)")
            })?;
            Ok(Command::ProjectionsRebuild {
                database_url,
                version,
            })
        }
        ["seed"] => Ok(Command::Seed {
            database_url,
            shipments: shipments.ok_or("seed needs --shipments N")?,
            concurrency,
        }),
        other => Err(format!("unknown command {:?}", other.join(" "))),
    }
}

/// One line on what holds the projections back, as the page's banner says it.
fn hold_line(overview: &crate::projections::status::ProjectionsOverview) -> String {
    let Some(hold) = &overview.hold else {
        return "held back: never on SQLite (one writer at a time)".to_string();
    };
    if !hold.is_held_back() {
        return "held back: no".to_string();
    }
    let seconds = hold.held_for_seconds(overview.taken_at);
    match hold.blocking_holder() {
        Some(h) => format!(
            "held back: {} events wait for {seconds:.0}s, by pid {} ({}, user {}, application {})",
            hold.unreadable_events,
            h.pid,
            h.state.as_deref().unwrap_or("state unknown"),
            h.user.as_deref().unwrap_or("unknown"),
            h.application_name.as_deref().unwrap_or("unnamed"),
        ),
        None => format!(
            "held back: {} events wait for {seconds:.1}s on freightdesk's own appends in flight",
            hold.unreadable_events
        ),
    }
}

async fn connect(database_url: &DatabaseUrl) -> CliResult<(EventStore, PortableDb)> {
    database_url.create_sqlite_dir()?;
    let store = EventStore::connect(database_url).await?;
    let db = PortableDb::connect(database_url).await?;
    Ok((store, db))
}

pub async fn run(command: Command) -> CliResult<()> {
    match command {
        Command::Help => print!("{HELP}"),
        Command::Serve(config) => crate::server::serve(config).await?,
        Command::ProjectionsStatus { database_url } => {
            let (store, db) = connect(&database_url).await?;
            let overview = crate::projections::status::overview(&store, &db).await?;
            println!("{}", hold_line(&overview));
            println!(
                "{:<20} {:<9} {:>10} {:>10} {:>8} {:>9} {:<20} error",
                "version", "state", "checkpoint", "head", "lag", "ev/s", "node"
            );
            for v in overview.versions {
                println!(
                    "{:<20} {:<9} {:>10} {:>10} {:>8} {:>9.1} {:<20} {}",
                    v.key,
                    v.state,
                    v.checkpoint_seq,
                    v.head_seq,
                    v.lag_events,
                    v.events_per_sec,
                    v.owner_node.unwrap_or_else(|| "-".into()),
                    v.error.unwrap_or_default()
                );
            }
        }
        Command::ProjectionsRebuild {
            database_url,
            version,
        } => {
            let (store, db) = connect(&database_url).await?;
            let (_, total) = store.head().await?;
            let table =
                crate::projections::operator::request_rebuild(&db, version, "cli", total).await?;
            println!(
                "rebuild of {} requested into {table} ({total} events); the node running it picks it up",
                version.key()
            );
        }
        Command::Seed {
            database_url,
            shipments,
            concurrency,
        } => {
            let (store, _) = connect(&database_url).await?;
            let started = std::time::Instant::now();
            let report = crate::seed::seed(&store, shipments, concurrency).await?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "seeded {} shipments, {} events in {secs:.1}s ({:.0} commands/s)",
                report.shipments,
                report.events,
                report.events as f64 / secs.max(1e-9)
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(args: &[&str], env: &[(&str, &str)]) -> Result<Command, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse(&args, |k| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn commands_parse() {
        match parse_with(&[], &[("FREIGHTDESK_PROJECTIONS", "shipment_board@1")]).unwrap() {
            Command::Serve(c) => {
                assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
                assert_eq!(c.capabilities, vec![Definition::ShipmentBoardV1]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse_with(&["projections", "rebuild", "shipment_board@2"], &[]).unwrap(),
            Command::ProjectionsRebuild {
                database_url: DatabaseUrl::parse(DatabaseUrl::DEFAULT).unwrap(),
                version: Definition::ShipmentBoardV2
            }
        );
        assert!(matches!(
            parse_with(&["seed", "--shipments", "10"], &[]).unwrap(),
            Command::Seed { shipments: 10, .. }
        ));
        assert_eq!(parse_with(&["--help"], &[]).unwrap(), Command::Help);
        assert!(parse_with(&["seed"], &[])
            .unwrap_err()
            .contains("--shipments"));
        assert!(parse_with(&["projections", "rebuild", "x@1"], &[]).is_err());
        assert!(parse_with(&["--addr", "nope"], &[])
            .unwrap_err()
            .contains("HOST:PORT"));
        assert!(parse_with(&["frobnicate"], &[]).is_err());
    }
}
