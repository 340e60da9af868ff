//! `freightdesk events export|import`: the event log out as JSON Lines and back into an empty
//! store.

use super::{connect, CliResult};
use crate::db::DatabaseUrl;
use crate::domain::{ShipmentEvent, ShipmentId};
use crate::log_file::{export_pages, LogLine, LogValidator};
use crate::store::explorer::LogQuery;
use crate::store::stored_log::{ImportedLog, StoredEvent};
use crate::store::EventStore;
use crate::zone::Zone;
use clap::{Args, Subcommand};
use futures::TryStreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Write the log (or the events passing the filters) to standard output, one JSON document
    /// per line, oldest first: position, stream and its kind, version, event id, type, schema
    /// version, data and metadata exactly as stored, and the recorded time. Streams in pages, so
    /// memory stays flat. Only an export without --type, --actor and --from (whole streams)
    /// can be imported.
    Export(ExportArgs),
    /// Write an exported log into an EMPTY store (all or nothing). The whole file is checked
    /// first (each line parses, lines are in log order, every stream's versions follow on
    /// without a gap or a repeat, every event type is known and its data readable); a bad line
    /// is named by its number and nothing is stored. Then it is written in ONE transaction, so
    /// an import that fails part-way leaves nothing behind (there is nothing to resume: run it
    /// again). Events keep their positions, ids, versions, times and actors, so exporting the
    /// imported store gives the same file.
    Import {
        /// The file written by `events export`.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only events recorded at or after this time (RFC 3339, or 2026-12-01T08:00 in UTC).
    #[arg(long)]
    pub from: Option<String>,
    /// Only events recorded before this time (as --from).
    #[arg(long)]
    pub to: Option<String>,
    /// Only this stream (a shipment id).
    #[arg(long)]
    pub stream: Option<String>,
    /// Only events of this type (e.g. ShipmentPickedUp).
    #[arg(long = "type")]
    pub event_type: Option<String>,
    /// Only events by this actor (a user name).
    #[arg(long)]
    pub actor: Option<String>,
}

impl ExportArgs {
    /// The filters, each checked; the first bad one is named.
    fn filter(&self) -> CliResult<LogQuery> {
        let time = |field: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(|t| Zone::Utc.parse_form_time(field, t))
                .transpose()
                .map_err(|e| format!("--{field}: {}", e.message))
        };
        let stream = self
            .stream
            .as_deref()
            .map(|s| {
                ShipmentId::parse(s)
                    .map(|id| id.as_uuid())
                    .map_err(|_| format!("--stream: {s:?} is not a shipment id"))
            })
            .transpose()?;
        if let Some(t) = &self.event_type {
            if !ShipmentEvent::TYPES.contains(&t.as_str()) {
                let known = ShipmentEvent::TYPES.join(", ");
                return Err(format!("--type: {t:?} is not an event type (known: {known})").into());
            }
        }
        Ok(LogQuery {
            event_type: self.event_type.clone(),
            actor: self.actor.clone(),
            stream,
            from: time("from", &self.from)?,
            to: time("to", &self.to)?,
            page: None,
            limit: 0,
        })
    }
}

pub async fn run(url: &DatabaseUrl, command: EventsCommand) -> CliResult<()> {
    match command {
        EventsCommand::Export(args) => {
            let filter = args.filter()?;
            let (store, _) = connect(url, false).await?;
            let started = Instant::now();
            let progress = progress_bar(None, "events");
            let stdout = std::io::stdout().lock();
            let count = export(&store, filter, stdout, &progress).await?;
            progress.finish_and_clear();
            eprintln!("exported {}", rate(count, started));
        }
        EventsCommand::Import { file } => {
            let (store, _) = connect(url, true).await?;
            let (_, events) = store.head().await?;
            if events > 0 {
                return Err(format!(
                    "the store at {url} is not empty ({events} events): import writes only into an empty store"
                )
                .into());
            }
            let started = Instant::now();
            let checked = check_file(&file)?;
            eprintln!(
                "checked {} lines ({} streams) of {}: all good",
                checked.lines(),
                checked.streams(),
                file.display()
            );
            let imported = import_file(&store, &file).await?;
            eprintln!(
                "imported {} into {} streams; the last position is {}",
                rate(imported.events, started),
                imported.streams,
                imported.last_seq
            );
        }
    }
    Ok(())
}

/// Writes the events passing `filter` to `out`, one line each; answers how many.
pub async fn export(
    store: &EventStore,
    filter: LogQuery,
    out: impl Write,
    progress: &ProgressBar,
) -> CliResult<u64> {
    let mut out = std::io::BufWriter::new(out);
    let mut pages = std::pin::pin!(export_pages(store.clone(), filter));
    let mut count = 0;
    while let Some(page) = pages.try_next().await? {
        for event in page {
            writeln!(out, "{}", LogLine::from(event).to_json())?;
            count += 1;
        }
        progress.set_position(count);
    }
    out.flush()?;
    Ok(count)
}

/// Reads the whole file through the validator: the first bad line (or I/O error) stops it.
fn check_file(path: &Path) -> CliResult<LogValidator> {
    let progress = progress_bar(Some(std::fs::metadata(path)?.len()), "bytes checked");
    let mut validator = LogValidator::default();
    for_each_line(path, &progress, |line| {
        validator.next_line(line).map(|_| ())
    })?;
    progress.finish_and_clear();
    Ok(validator)
}

/// Events sent to the store per chunk while importing.
const IMPORT_CHUNK: usize = 1000;

/// Writes the (checked) file into the store: a thread reads and parses it, the store writes
/// the chunks in one transaction as they come.
async fn import_file(store: &EventStore, path: &Path) -> CliResult<ImportedLog> {
    let (send, chunks) = tokio::sync::mpsc::channel(4);
    let progress = progress_bar(Some(std::fs::metadata(path)?.len()), "bytes imported");
    let reader = {
        let (path, progress) = (path.to_path_buf(), progress.clone());
        tokio::task::spawn_blocking(move || {
            // Checked again while reading: the file may have changed since it was checked.
            let mut validator = LogValidator::default();
            let mut chunk: Vec<StoredEvent> = Vec::with_capacity(IMPORT_CHUNK);
            let read = for_each_line(&path, &progress, |line| {
                chunk.push(validator.next_line(line)?);
                if chunk.len() == IMPORT_CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(IMPORT_CHUNK));
                    if send.blocking_send(Ok(full)).is_err() {
                        // The import stopped (it failed): its error is the one reported, so
                        // stop reading.
                        return Err(crate::log_file::BadLine {
                            line: validator.lines(),
                            message: "the import stopped".into(),
                        });
                    }
                }
                Ok(())
            });
            let last = match read {
                Ok(()) => Ok(chunk),
                Err(e) => Err(e.to_string()),
            };
            let _ = send.blocking_send(last);
        })
    };
    let imported = store.import_log(chunks).await;
    reader.await?;
    progress.finish_and_clear();
    Ok(imported?)
}

/// Calls `each` with every line of the file (without its line ending), moving the bar by the
/// bytes read. A line that is not UTF-8 is refused with its number.
fn for_each_line(
    path: &Path,
    progress: &ProgressBar,
    mut each: impl FnMut(&str) -> Result<(), crate::log_file::BadLine>,
) -> CliResult<()> {
    let mut reader = BufReader::new(std::fs::File::open(path)?);
    let mut buffer = Vec::new();
    let mut number = 0;
    loop {
        buffer.clear();
        let read = reader.read_until(b'\n', &mut buffer)?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        progress.inc(read as u64);
        let text = std::str::from_utf8(&buffer).map_err(|_| crate::log_file::BadLine {
            line: number,
            message: "not UTF-8 text".into(),
        })?;
        each(text.trim_end_matches(['\n', '\r']))?;
    }
}

/// A bar on standard error when it is a terminal (a spinner when the total is unknown);
/// nothing otherwise, so scripts and logs stay clean.
fn progress_bar(total: Option<u64>, unit: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::new(total),
            format!("{{bar:40}} {{percent}}% {{human_pos}}/{{human_len}} {unit} ({{per_sec}}, {{eta}} left)"),
        ),
        None => (
            ProgressBar::new_spinner(),
            format!("{{spinner}} {{human_pos}} {unit} ({{per_sec}})"),
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

/// "N events in S s (R events/s)".
fn rate(events: u64, started: Instant) -> String {
    let secs = started.elapsed().as_secs_f64();
    format!(
        "{events} events in {secs:.1} s ({:.0} events/s)",
        events as f64 / secs.max(1e-9)
    )
}
