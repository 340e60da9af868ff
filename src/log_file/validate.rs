//! Checking an exported log before anything is written: every line parses, is in log order,
//! continues its stream's versions without a gap or a repeat, names a known event type whose
//! data the domain can read (after upcasting), and carries metadata with an actor.
//!
//! Memory: one entry per stream (its last version) and one per event id (16 bytes), so a
//! 1,000,000-event file costs some tens of MB, not the events themselves.

use crate::domain::ShipmentEvent;
use crate::store::stored_log::StoredEvent;
use crate::store::{upcast_to_current, EventMetadata};
use std::collections::{HashMap, HashSet};
use std::fmt;
use uuid::Uuid;

use super::LogLine;

/// Why a line is refused, with its number (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct BadLine {
    pub line: u64,
    pub message: String,
}

/// A stream as seen so far: its kind and last version.
struct SeenStream {
    kind: String,
    version: i64,
}

/// Reads the lines of a log in order and says for each whether it may follow the ones before.
#[derive(Default)]
pub struct LogValidator {
    line: u64,
    last_position: Option<i64>,
    streams: HashMap<Uuid, SeenStream>,
    event_ids: HashSet<Uuid>,
}

impl fmt::Debug for LogValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogValidator")
            .field("line", &self.line)
            .field("streams", &self.streams.len())
            .finish()
    }
}

impl LogValidator {
    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.line
    }

    /// Streams seen so far.
    pub fn streams(&self) -> usize {
        self.streams.len()
    }

    /// The next line's event, or why it is refused. A refused line leaves the validator as it
    /// was, apart from counting the line.
    pub fn next_line(&mut self, text: &str) -> Result<StoredEvent, BadLine> {
        self.line += 1;
        let line = self.line;
        let bad = |message: String| BadLine { line, message };
        let parsed: LogLine =
            serde_json::from_str(text).map_err(|e| bad(format!("not a log line: {e}")))?;
        if let Some(last) = self.last_position {
            if parsed.position <= last {
                return Err(bad(format!(
                    "position {} does not follow the previous line's {last}: lines must be in log order, each event once",
                    parsed.position
                )));
            }
        }
        if parsed.position < 1 {
            return Err(bad(format!(
                "position {} is not a log position",
                parsed.position
            )));
        }
        check_event(&parsed).map_err(bad)?;
        if parsed.stream_kind.trim().is_empty() {
            return Err(bad("stream_kind is empty".into()));
        }
        let expected = match self.streams.get(&parsed.stream_id) {
            Some(seen) if seen.kind != parsed.stream_kind => {
                return Err(bad(format!(
                    "stream {} is of kind {:?}, not {:?}",
                    parsed.stream_id, seen.kind, parsed.stream_kind
                )))
            }
            Some(seen) => seen.version + 1,
            None => 1,
        };
        if parsed.version != expected {
            let what = if parsed.version < expected {
                "repeats"
            } else {
                "skips to"
            };
            return Err(bad(format!(
                "stream {} {what} version {} where version {expected} comes next",
                parsed.stream_id, parsed.version
            )));
        }
        if self.event_ids.contains(&parsed.event_id) {
            return Err(bad(format!("event id {} appears twice", parsed.event_id)));
        }
        self.event_ids.insert(parsed.event_id);
        self.last_position = Some(parsed.position);
        self.streams.insert(
            parsed.stream_id,
            SeenStream {
                kind: parsed.stream_kind.clone(),
                version: parsed.version,
            },
        );
        Ok(parsed.into())
    }
}

/// The event's type is known, its data reads as that type (after upcasting), and its metadata
/// names an actor.
fn check_event(line: &LogLine) -> Result<(), String> {
    if !ShipmentEvent::TYPES.contains(&line.event_type.as_str()) {
        return Err(format!("unknown event type {:?}", line.event_type));
    }
    let (_, data) = upcast_to_current(&line.event_type, line.schema_version, line.data.clone())
        .map_err(|e| e.to_string())?;
    ShipmentEvent::from_json(&line.event_type, &data).map_err(|e| e.to_string())?;
    let metadata: EventMetadata =
        serde_json::from_value(line.metadata.clone()).map_err(|e| format!("metadata: {e}"))?;
    if metadata.actor.trim().is_empty() {
        return Err("metadata: actor is empty".into());
    }
    Ok(())
}
