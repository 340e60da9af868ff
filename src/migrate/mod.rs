//! Moving a whole installation from its SQLite file to an empty PostgreSQL database: the event
//! log (positions kept), users with their password hashes, subscriptions with their secrets,
//! deliveries and checkpoints (so no webhook is sent twice), the projections' settings, skips,
//! alerts, comparisons and audit trails. The read models are rebuilt from the log on the new
//! database and compared with the old ones row by row. The source is only read.
//!
//! Not moved: sessions (everyone signs in again), sign-in throttling, the node registry and
//! the lag samples of the last hour; they describe the old process, not the installation.

pub mod rows;

use crate::database::{Database, OpenError};
use crate::db::{DatabaseUrl, TableName};
use crate::log_file::export_pages;
use crate::projections::lifecycle::VersionState;
use crate::projections::{versions, Daemon, Definition};
use crate::store::explorer::LogQuery;
use crate::store::stored_log::{ImportedLog, LogImportError};
use crate::store::{Checkpoint, EventStore, StoreError};
use futures::TryStreamExt;
use rows::{Column, TableDiff};
use std::time::Duration;

/// The tables copied as they are, in an order their foreign keys accept.
const COPIED_TABLES: [&str; 9] = [
    "users",
    "projection_settings",
    "projection_audit",
    "projection_comparisons",
    "projection_alerts",
    "skipped_events",
    "subscriptions",
    "webhook_deliveries",
    "subscription_audit",
];

/// Of those, the ones whose `id` comes from a sequence, which must continue after the copies.
const SEQUENCED_TABLES: [&str; 6] = [
    "projection_audit",
    "projection_comparisons",
    "projection_alerts",
    "subscriptions",
    "webhook_deliveries",
    "subscription_audit",
];

/// Tables that make a target count as not empty.
const MUST_BE_EMPTY: [&str; 4] = ["events", "users", "subscriptions", "projection_versions"];

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("the source must be a SQLite file (sqlite:PATH), not {0}")]
    SourceNotSqlite(String),
    #[error("the target must be a PostgreSQL database (postgres://…), not {0}")]
    TargetNotPostgres(String),
    #[error("the target database is not empty ({0}); move into a new, empty database")]
    TargetNotEmpty(String),
    #[error("{0}")]
    Open(#[from] OpenError),
    #[error("moving the event log: {0}")]
    Log(#[from] LogImportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{key} failed while it was rebuilt on the new database: {error}")]
    RebuildFailed { key: String, error: String },
}

/// What a move did, for the operator.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MigrationReport {
    pub log: ImportedLog,
    /// (table, rows copied)
    pub copied: Vec<(String, usize)>,
    /// (subscription, the position up to which it had read)
    pub subscriptions: Vec<(String, i64)>,
    pub versions: Vec<VersionCheck>,
}

impl MigrationReport {
    /// True when every compared read model equals its old self.
    pub fn all_equal(&self) -> bool {
        self.versions
            .iter()
            .all(|v| !matches!(v.outcome, Checked::Differs(_)))
    }
}

/// How a projection version's rebuilt table compares with the old one.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionCheck {
    pub key: String,
    pub state: String,
    pub table: String,
    pub outcome: Checked,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    Equal {
        rows: usize,
    },
    Differs(TableDiff),
    /// Not rebuilt or not compared, and why.
    Skipped(String),
}

/// What the operator is told while a move runs.
pub trait MoveProgress {
    fn step(&self, what: &str);
    fn events_moved(&self, count: u64);
}

/// Moves the installation at `source` (SQLite) into `target` (PostgreSQL, empty).
#[tracing::instrument(skip_all, fields(source = %source.redacted(), target = %target.redacted()))]
pub async fn migrate(
    source: &DatabaseUrl,
    target: &DatabaseUrl,
    progress: &dyn MoveProgress,
) -> Result<MigrationReport, MigrateError> {
    if !matches!(source, DatabaseUrl::Sqlite { .. }) {
        return Err(MigrateError::SourceNotSqlite(source.redacted()));
    }
    if !matches!(target, DatabaseUrl::Postgres(_)) {
        return Err(MigrateError::TargetNotPostgres(target.redacted()));
    }
    let old = Database::open_existing(source).await?;
    let new = Database::open(target).await?;
    refuse_unless_empty(&new).await?;
    let mut report = MigrationReport::default();

    progress.step("moving the event log");
    report.log = move_log(&old.store, &new.store, progress).await?;

    progress.step("copying users, subscriptions, deliveries, settings and audit trails");
    let mut tx = new.db.begin().await?;
    for name in COPIED_TABLES {
        let table = table_named(name)?;
        let columns = rows::columns_of(&new.db, &table).await?;
        let copied = rows::read_rows(&old.db, &table, &columns).await?;
        rows::insert_rows(&mut tx, &table, &columns, &copied).await?;
        report.copied.push((name.to_string(), copied.len()));
    }
    for name in SEQUENCED_TABLES {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {name}"
        ))
        .execute(&mut *tx)
        .await?;
    }
    report.subscriptions = move_subscription_checkpoints(&old, &new, &mut tx).await?;
    let to_compare = copy_versions(&old, &new, &mut tx, &mut report).await?;
    tx.commit().await?;

    progress.step("rebuilding the read models from the log");
    rebuild(&new, progress).await?;

    progress.step("comparing the read models with the old ones, row by row");
    for check in report.versions.iter_mut() {
        let Some(def) = Definition::parse(&check.key).filter(|d| to_compare.contains(d)) else {
            continue;
        };
        let table = table_named(&check.table)?;
        let columns: Vec<Column> = rows::columns_of(&new.db, &table).await?;
        let diff = rows::compare(&old.db, &new.db, &table, &columns).await?;
        check.outcome = if diff.is_equal() {
            Checked::Equal { rows: diff.rows }
        } else {
            Checked::Differs(diff)
        };
        tracing::info!(version = %def.key(), "compared");
    }
    old.store.close().await;
    old.db.close().await;
    Ok(report)
}

async fn refuse_unless_empty(new: &Database) -> Result<(), MigrateError> {
    let mut found = Vec::new();
    for table in MUST_BE_EMPTY {
        let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(new.db.read())
            .await?;
        if count > 0 {
            found.push(format!("{table}: {count} rows"));
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(MigrateError::TargetNotEmpty(found.join(", ")))
    }
}

/// The whole log, page by page, into the target's store in one transaction.
async fn move_log(
    old: &EventStore,
    new: &EventStore,
    progress: &dyn MoveProgress,
) -> Result<ImportedLog, MigrateError> {
    let (send, chunks) = tokio::sync::mpsc::channel(4);
    let import = tokio::spawn({
        let new = new.clone();
        async move { new.import_log(chunks).await }
    });
    let mut pages = std::pin::pin!(export_pages(old.clone(), LogQuery::default()));
    let mut moved = 0;
    let read = loop {
        match pages.try_next().await {
            Ok(Some(page)) => {
                moved += page.len() as u64;
                if send.send(Ok(page)).await.is_err() {
                    break Ok(()); // the import stopped: its error says why
                }
                progress.events_moved(moved);
            }
            Ok(None) => break Ok(()),
            Err(e) => {
                let _ = send.send(Err(e.to_string())).await;
                break Err(e);
            }
        }
    };
    drop(send);
    let imported = import
        .await
        .map_err(|e| MigrateError::Log(LogImportError::Abandoned(e.to_string())))?;
    read?;
    Ok(imported?)
}

/// Each subscription continues where it stopped: on SQLite its checkpoint is the last position
/// it read, S. The log kept its positions, so on PostgreSQL it has read exactly the events
/// visible now with a position up to S: the checkpoint whose next read starts at the first
/// event after S (or, if there is none, the head).
async fn move_subscription_checkpoints(
    old: &Database,
    new: &Database,
    tx: &mut crate::db::Tx,
) -> Result<Vec<(String, i64)>, MigrateError> {
    let read: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT id, name, checkpoint_seq FROM subscriptions ORDER BY id")
            .fetch_all(old.db.read())
            .await?;
    let mut moved = Vec::new();
    for (id, name, seq) in read {
        let checkpoint = checkpoint_after(&new.store, seq).await?;
        sqlx::query(
            "UPDATE subscriptions SET checkpoint_snapshot = $1, checkpoint_seq = $2, owner = NULL
             WHERE id = $3",
        )
        .bind(checkpoint.snapshot_text())
        .bind(checkpoint.seq)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        moved.push((name, seq));
    }
    Ok(moved)
}

/// The target's checkpoint of a reader that has read every event up to position `seq`.
async fn checkpoint_after(store: &EventStore, seq: i64) -> Result<Checkpoint, StoreError> {
    let next = store.first_event_after(seq).await?;
    let checkpoint = match next {
        Some(next) => store.checkpoint_before_event(next).await?,
        None => None,
    };
    match checkpoint {
        Some(c) => Ok(Checkpoint { seq, ..c }),
        None => store.head_checkpoint().await,
    }
}

/// Copies the versions' rows with their states and settings, but with nothing applied yet:
/// each maintained version gets an empty table and is rebuilt from the log. Answers the
/// versions to rebuild and compare.
async fn copy_versions(
    old: &Database,
    new: &Database,
    tx: &mut crate::db::Tx,
    report: &mut MigrationReport,
) -> Result<Vec<Definition>, MigrateError> {
    let table = table_named("projection_versions")?;
    let columns = rows::columns_of(&new.db, &table).await?;
    let copied = rows::read_rows(&old.db, &table, &columns).await?;
    rows::insert_rows(tx, &table, &columns, &copied).await?;
    sqlx::query(
        "UPDATE projection_versions SET checkpoint_snapshot = '', checkpoint_seq = 0,
             events_applied = 0, last_event_at = NULL, rate_per_sec = 0, owner_node = NULL,
             rebuild_table = NULL, rebuild_snapshot = '', rebuild_seq = 0, rebuild_done = 0,
             rebuild_total = 0, rebuild_started_at = NULL",
    )
    .execute(&mut **tx)
    .await?;
    report.copied.push((table.to_string(), copied.len()));
    let mut to_compare = Vec::new();
    for row in versions::load_all(&old.db).await? {
        let (behind, _) = old.store.backlog(&row.checkpoint).await?;
        let outcome = if !row.state.is_maintained() {
            Checked::Skipped(format!("{}: no table to rebuild", row.state.as_str()))
        } else if let Some(failure) = &row.failure {
            Checked::Skipped(format!(
                "failed in the source ({}); retry it on the new database",
                failure.error
            ))
        } else {
            row.def.create_table(tx, &row.physical_table).await?;
            if behind > 0 || row.rebuild.is_some() || row.state == VersionState::Building {
                Checked::Skipped(format!(
                    "rebuilt, not compared: it was still catching up in the source ({behind} events behind)"
                ))
            } else {
                to_compare.push(row.def);
                Checked::Skipped("not compared yet".into())
            }
        };
        report.versions.push(VersionCheck {
            key: row.def.key(),
            state: row.state.as_str().to_string(),
            table: row.physical_table.to_string(),
            outcome,
        });
    }
    Ok(to_compare)
}

/// Runs a projection daemon on the new database, this process its only node, until every
/// maintained version has applied the whole log; then stops it and leaves no node behind.
async fn rebuild(new: &Database, progress: &dyn MoveProgress) -> Result<(), MigrateError> {
    let mut maintained = Vec::new();
    for row in versions::load_all(&new.db).await? {
        if row.state.is_maintained() && row.failure.is_none() {
            maintained.push(row.def);
        }
    }
    let node = format!("migrate-{}", std::process::id());
    let daemon = Daemon::new(
        new.store.clone(),
        new.db.clone(),
        node.clone(),
        maintained.clone(),
    )
    .start()
    .await?;
    let outcome = wait_until_rebuilt(new, &maintained, progress).await;
    daemon.shutdown().await;
    sqlx::query("DELETE FROM nodes WHERE name = $1")
        .bind(&node)
        .execute(new.db.read())
        .await?;
    outcome
}

/// Polls until every version has read the whole log (a command has no event to wait on).
async fn wait_until_rebuilt(
    new: &Database,
    defs: &[Definition],
    progress: &dyn MoveProgress,
) -> Result<(), MigrateError> {
    loop {
        let mut behind = 0;
        for def in defs {
            let row = versions::load(&new.db, *def).await?;
            if let Some(failure) = row.failure {
                return Err(MigrateError::RebuildFailed {
                    key: def.key(),
                    error: failure.error,
                });
            }
            let (lag, _) = new.store.backlog(&row.checkpoint).await?;
            behind += lag + i64::from(row.state == VersionState::Building);
        }
        if behind == 0 {
            return Ok(());
        }
        progress.step(&format!(
            "rebuilding the read models: {behind} events to go"
        ));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn table_named(name: &str) -> Result<TableName, sqlx::Error> {
    Ok(TableName::parse(name)?)
}
