//! Reading the log other than from the start: finding places for readers that start somewhere
//! else (a new subscription starts at the head; an admin rewinds one to a position or a time),
//! and the explorer's read for people. Positions follow the readers' order; each backend knows
//! its own.

use super::backend::Backend;
use super::explorer::{LogEntry, LogPage, LogQuery};
use super::{Backends, EventStore, Position, StoreError};
use chrono::{DateTime, Utc};

impl EventStore {
    /// The position of the last event every reader can already see: a reader starting here
    /// gets exactly the events committed from now on (and those still in flight).
    pub async fn head_position(&self) -> Result<Position, StoreError> {
        on_backend!(self, b => b.head_position().await)
    }

    /// The position just before the event with global position `seq`, so that a reader
    /// starting there reads that event next. `None` if there is no such event.
    pub async fn position_before_event(&self, seq: i64) -> Result<Option<Position>, StoreError> {
        on_backend!(self, b => b.position_before_event(seq).await)
    }

    /// The log for people (the event explorer), newest first; a page of newer events is read
    /// upwards and turned around. It makes no gap-safety promise: it shows what is committed.
    pub async fn read_log_backwards(&self, query: &LogQuery) -> Result<Vec<LogEntry>, StoreError> {
        let mut entries = on_backend!(self, b => b.read_log(query).await?);
        if matches!(query.page, Some(LogPage::NewerThan(_))) {
            entries.reverse();
        }
        Ok(entries)
    }

    /// The position just before the first event (in readers' order) recorded at or after
    /// `at`. `None` if nothing was recorded since.
    pub async fn position_before_time(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Option<Position>, StoreError> {
        match on_backend!(self, b => b.first_event_since(at).await?) {
            Some(seq) => self.position_before_event(seq).await,
            None => Ok(None),
        }
    }
}
