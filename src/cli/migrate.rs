//! `freightdesk migrate --to postgres://…`: the SQLite installation (`--database-url`) moved
//! into an empty PostgreSQL database, with a report of what moved and how the rebuilt read
//! models compare with the old ones.

use super::CliResult;
use crate::db::DatabaseUrl;
use crate::migrate::{migrate, Checked, MigrationReport, MoveProgress};
use clap::Args;
use indicatif::ProgressBar;
use std::io::IsTerminal;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The new, EMPTY PostgreSQL database (postgres://user[:password]@host:port/db). A database
    /// that already has events, users, subscriptions or projection versions is refused: create
    /// a fresh one. The SQLite file (--database-url) is only read. Stop `serve` first, so no
    /// event is appended to the old file during the move.
    #[arg(long)]
    pub to: String,
}

/// Steps as lines on standard error; events moved as a spinner on a terminal.
struct Terminal {
    bar: ProgressBar,
}

impl MoveProgress for Terminal {
    fn step(&self, what: &str) {
        if self.bar.is_hidden() {
            // Without a terminal only the steps are printed, not each progress update.
            if !what.contains("to go") {
                eprintln!("{what}");
            }
        } else {
            self.bar.set_message(what.to_string());
            self.bar.tick();
        }
    }

    fn events_moved(&self, count: u64) {
        self.bar.set_position(count);
    }
}

pub async fn run(source: &DatabaseUrl, args: MigrateArgs) -> CliResult<()> {
    let target = DatabaseUrl::parse(&args.to).map_err(|e| format!("--to: {e}"))?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} {msg} ({human_pos} events moved)")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let report = migrate(source, &target, &Terminal { bar: bar.clone() }).await?;
    bar.finish_and_clear();
    print!("{}", describe(&report, started));
    if report.all_equal() {
        Ok(())
    } else {
        Err(
            "the rebuilt read models differ from the old ones (above); the old file is untouched"
                .into(),
        )
    }
}

/// The report as an operator reads it.
fn describe(report: &MigrationReport, started: Instant) -> String {
    let secs = started.elapsed().as_secs_f64();
    let mut out = format!(
        "moved {} events of {} streams (positions kept, last {}); all done in {secs:.1} s\n",
        report.log.events, report.log.streams, report.log.last_seq
    );
    for (table, rows) in &report.copied {
        out.push_str(&format!("copied {rows} rows of {table}\n"));
    }
    for (name, seq) in &report.subscriptions {
        out.push_str(&format!(
            "subscription {name} continues after position {seq} (nothing is sent again)\n"
        ));
    }
    for v in &report.versions {
        let outcome = match &v.outcome {
            Checked::Equal { rows } => {
                format!("rebuilt, equals the old table row by row ({rows} rows)")
            }
            Checked::Differs(diff) => {
                let mut text = format!(
                    "DIFFERS: {} rows only in the old table, {} only in the new, {} values differ",
                    diff.only_source.len(),
                    diff.only_target.len(),
                    diff.differing.len()
                );
                for (key, column, old, new) in diff.differing.iter().take(5) {
                    text.push_str(&format!("\n    {key} {column}: old {old}, new {new}"));
                }
                text
            }
            Checked::Skipped(why) => why.clone(),
        };
        out.push_str(&format!(
            "{} ({}, {}): {outcome}\n",
            v.key, v.state, v.table
        ));
    }
    if report.versions.is_empty() {
        out.push_str("the source has no projection versions (it was never served): serve registers and builds them.\n");
    } else if report.all_equal() {
        out.push_str("every read model compared equals the old one. ");
    }
    if report.all_equal() {
        out.push_str("Serve from the new database with DATABASE_URL set to it.\n");
    }
    out
}
