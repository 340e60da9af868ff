use clap::Parser;
use freightdesk::cli::{self, Cli};
use std::io::IsTerminal;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        // Colours only for a person at a terminal, never into a log file.
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    if let Err(e) = cli::run(cli).await {
        eprintln!("freightdesk: {e}");
        std::process::exit(1);
    }
}
