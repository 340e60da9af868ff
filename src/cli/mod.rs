//! The command line: `serve` (the default), `projections status|rebuild`, `seed`, `users`,
//! `subscriptions`, `events export|import` and `migrate`.
//! Flags win over the environment; `--help` on any command explains it.

mod args;
mod events;
mod migrate;
mod tables;

pub use args::{Cli, Command, ProjectionsCommand, ServeArgs, SubscriptionsCommand, UsersCommand};

use crate::auth::{read_password, Auth, AuthConfig};
use crate::database::Database;
use crate::db::{DatabaseUrl, PortableDb};
use crate::store::EventStore;
use crate::subscriptions::operations::{self, SubscriptionInput};
use crate::subscriptions::{SubscriptionState, WebhookConfig};

/// Errors of a command: printed once, and the process exits non-zero.
pub type CliResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Opens the database for a command. Commands that only read refuse a SQLite file that does
/// not exist instead of creating it (a typo would otherwise "work" on an empty database).
async fn connect(url: &DatabaseUrl, create: bool) -> CliResult<(EventStore, PortableDb)> {
    let Database { store, db } = if create {
        Database::open(url).await?
    } else {
        Database::open_existing(url).await?
    };
    Ok((store, db))
}

/// Runs one command line (serve when no command is given).
pub async fn run(cli: Cli) -> CliResult<()> {
    let url = DatabaseUrl::parse(&cli.database_url)?;
    match cli
        .command
        .unwrap_or(Command::Serve(ServeArgs::default_from_env()?))
    {
        Command::Serve(args) => crate::server::serve(args.config(url)?).await?,
        Command::Projections(ProjectionsCommand::Status) => {
            let (store, db) = connect(&url, false).await?;
            let overview = crate::projections::status::overview(&store, &db).await?;
            print!("{}", tables::status_table(&overview));
        }
        Command::Projections(ProjectionsCommand::Rebuild { version }) => {
            let (store, db) = connect(&url, false).await?;
            let (_, total) = store.head().await?;
            let table =
                crate::projections::operator::request_rebuild(&db, version, "cli", total).await?;
            println!(
                "rebuild of {} requested into {table} ({total} events); the node running it picks it up",
                version.key()
            );
        }
        Command::Seed {
            shipments,
            concurrency,
        } => {
            let (store, _) = connect(&url, true).await?;
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
        Command::Users(command) => users(&url, command).await?,
        Command::Subscriptions(command) => subscriptions(&url, command).await?,
        Command::Events(command) => events::run(&url, command).await?,
        Command::Migrate(args) => migrate::run(&url, args).await?,
    }
    Ok(())
}

async fn users(url: &DatabaseUrl, command: UsersCommand) -> CliResult<()> {
    let (_, db) = connect(url, matches!(command, UsersCommand::Add { .. })).await?;
    let auth = Auth::new(db, AuthConfig::default());
    match command {
        UsersCommand::Add {
            name,
            role,
            display_name,
        } => {
            let password = read_password(&format!("Password for {name}: "))?;
            let display = display_name.unwrap_or_else(|| name.clone());
            let user = auth.add_user(&name, &display, role, &password).await?;
            println!("added {} ({})", user.name, user.role);
        }
        UsersCommand::SetPassword { name } => {
            let password = read_password(&format!("New password for {name}: "))?;
            auth.reset_password(&name, &password).await?;
            println!("password of {name} set; their sessions ended");
        }
        UsersCommand::Disable { name } => {
            auth.disable_user(&name).await?;
            println!("{name} is disabled; their sessions ended");
        }
        UsersCommand::Enable { name } => {
            auth.enable_user(&name).await?;
            println!("{name} is enabled and may sign in again");
        }
        UsersCommand::List => print!("{}", tables::users_table(&auth.list_users().await?)),
    }
    Ok(())
}

/// The CLI acts as this actor in the subscriptions' audit trail.
const CLI_ACTOR: &str = "cli";

async fn subscriptions(url: &DatabaseUrl, command: SubscriptionsCommand) -> CliResult<()> {
    let (store, db) = connect(url, matches!(command, SubscriptionsCommand::Add { .. })).await?;
    let by_name = |name: String| {
        let db = db.clone();
        async move { CliResult::Ok(operations::find_by_name(&db, &name).await?) }
    };
    match command {
        SubscriptionsCommand::Add {
            name,
            url,
            events,
            place,
            max_attempts,
            allow_private,
        } => {
            let config = WebhookConfig {
                allow_private_targets: allow_private,
                ..WebhookConfig::default()
            };
            let input = SubscriptionInput {
                name,
                target_url: url,
                event_types: events,
                place_filter: place,
                max_attempts,
            };
            let created = operations::create(&db, &store, &config, CLI_ACTOR, input)
                .await
                .map_err(subscription_error)?;
            println!("added subscription {} (#{})", created.name, created.id);
            println!("signing secret (shown only now): {}", created.secret);
        }
        SubscriptionsCommand::List => {
            let subscriptions = operations::list(&db, &store).await?;
            print!("{}", tables::subscriptions_table(&subscriptions));
        }
        SubscriptionsCommand::Pause { name } => {
            let row = by_name(name).await?;
            let done =
                operations::set_state(&db, CLI_ACTOR, row.id, SubscriptionState::Paused).await;
            println!("{}", done.map_err(subscription_error)?);
        }
        SubscriptionsCommand::Resume { name } => {
            let row = by_name(name).await?;
            let done =
                operations::set_state(&db, CLI_ACTOR, row.id, SubscriptionState::Active).await;
            println!("{}", done.map_err(subscription_error)?);
        }
        SubscriptionsCommand::Rewind { name, to } => {
            let row = by_name(name).await?;
            let done = operations::rewind(&db, &store, CLI_ACTOR, row.id, &to, &row.name).await;
            println!("{}", done.map_err(subscription_error)?);
        }
        SubscriptionsCommand::Remove { name } => {
            let row = by_name(name).await?;
            let done = operations::delete(&db, CLI_ACTOR, row.id, &row.name).await;
            println!("{}", done.map_err(subscription_error)?);
        }
    }
    Ok(())
}

/// Field errors as one line per field, as a person reads them on a terminal.
fn subscription_error(
    e: operations::SubscriptionError,
) -> Box<dyn std::error::Error + Send + Sync> {
    match e {
        operations::SubscriptionError::Invalid(errors) => errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ")
            .into(),
        other => other.into(),
    }
}
