use freightdesk::server::{self, Config};
use std::net::SocketAddr;

const HELP: &str = "\
freightdesk — event-sourced freight shipments with an operator console

USAGE:
    freightdesk [serve] [--addr HOST:PORT] [--database-url URL]
    freightdesk --help

ENVIRONMENT (flags win over the environment):
    DATABASE_URL       postgres://user[:password]@host:port/db for PostgreSQL, or sqlite:PATH.
                       Default: sqlite:data/freightdesk.db (created if missing).
    FREIGHTDESK_ADDR   address to listen on. Default: 127.0.0.1:3000.
    RUST_LOG           log filter, e.g. info or freightdesk=debug,sqlx=warn. Default: info.
    LEPTOS_SITE_ROOT, LEPTOS_SITE_PKG_DIR, LEPTOS_OUTPUT_NAME
                       where the compiled browser bundle is served from (set by `make run`).
";

fn parse_args(args: &[String]) -> Result<Option<Config>, String> {
    let mut database_url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| Config::DEFAULT_DATABASE_URL.into());
    let mut addr =
        std::env::var("FREIGHTDESK_ADDR").unwrap_or_else(|_| Config::DEFAULT_ADDR.into());
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "-h" | "--help" | "help" => return Ok(None),
            "serve" => {}
            "--addr" => addr = rest.next().ok_or("--addr needs a value")?.clone(),
            "--database-url" => {
                database_url = rest.next().ok_or("--database-url needs a value")?.clone()
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| format!("FREIGHTDESK_ADDR {addr:?} is not HOST:PORT (e.g. 127.0.0.1:3000)"))?;
    Ok(Some(Config { database_url, addr }))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse_args(&args) {
        Ok(Some(config)) => config,
        Ok(None) => {
            print!("{HELP}");
            return;
        }
        Err(message) => {
            eprintln!("freightdesk: {message}\n\n{HELP}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    if let Err(e) = server::serve(config).await {
        tracing::error!("freightdesk failed: {e}");
        std::process::exit(1);
    }
}
