use freightdesk::cli::{self, Command, HELP};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args, |name| std::env::var(name).ok()) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("freightdesk: {message}\n\n{HELP}");
            std::process::exit(2);
        }
    };
    if command != Command::Help {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info,sqlx=warn".into()),
            )
            .init();
    }
    if let Err(e) = cli::run(command).await {
        eprintln!("freightdesk: {e}");
        std::process::exit(1);
    }
}
