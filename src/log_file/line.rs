//! One line of an exported log: an event exactly as stored (data and metadata not upcast), with
//! its stream's kind and its global position.

use crate::store::stored_log::StoredEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};
use uuid::Uuid;

/// The fields, in the order they are written. Unknown fields are refused on import, so a
/// misspelt field is an error instead of silently lost data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogLine {
    /// The event's global position (`seq`) in the log it was exported from.
    pub position: i64,
    pub stream_id: Uuid,
    pub stream_kind: String,
    pub version: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: i32,
    pub data: serde_json::Value,
    /// Who and why: actor, correlation id, causation id, command.
    pub metadata: serde_json::Value,
    /// Written with microseconds, which is what both stores keep.
    #[serde(serialize_with = "micros")]
    pub recorded_at: DateTime<Utc>,
}

fn micros<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::db::time_text(*t))
}

impl LogLine {
    /// The line's text, without the newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a log line serializes to JSON")
    }
}

impl From<StoredEvent> for LogLine {
    fn from(e: StoredEvent) -> Self {
        LogLine {
            position: e.seq,
            stream_id: e.stream_id,
            stream_kind: e.stream_kind,
            version: e.version,
            event_id: e.id,
            event_type: e.event_type,
            schema_version: e.schema_version,
            data: e.data,
            metadata: e.metadata,
            recorded_at: e.recorded_at,
        }
    }
}

impl From<LogLine> for StoredEvent {
    fn from(l: LogLine) -> Self {
        StoredEvent {
            seq: l.position,
            id: l.event_id,
            stream_id: l.stream_id,
            stream_kind: l.stream_kind,
            version: l.version,
            event_type: l.event_type,
            schema_version: l.schema_version,
            data: l.data,
            metadata: l.metadata,
            recorded_at: l.recorded_at,
        }
    }
}
