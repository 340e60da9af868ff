use clap::Parser;
use freightdesk::cli::{self, Cli};
use std::io::IsTerminal;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    // A command whose output is data (an export) logs to standard error instead.
    let (writer, terminal) = if cli.writes_data_to_stdout() {
        let writer = BoxMakeWriter::new(std::io::stderr);
        (writer, std::io::stderr().is_terminal())
    } else {
        (
            BoxMakeWriter::new(std::io::stdout),
            std::io::stdout().is_terminal(),
        )
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(writer)
        // Colours only for a person at a terminal, never into a log file.
        .with_ansi(terminal)
        .init();
    if let Err(e) = cli::run(cli).await {
        eprintln!("freightdesk: {e}");
        std::process::exit(1);
    }
}
