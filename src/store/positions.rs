//! Reading the log other than from the start: finding places for readers that start somewhere
//! else (a new subscription starts at the head; an admin rewinds one to a position or a time),
//! and the explorer's read for people.

use super::backend::Backend;
use super::explorer::{LogEntry, LogPage, LogQuery};
use super::{Backends, Checkpoint, EventStore, StoreError};
use chrono::{DateTime, Utc};

impl EventStore {
    /// A checkpoint that has read everything committed now: a reader starting here gets
    /// exactly the events committed from now on (and those still in flight).
    pub async fn head_checkpoint(&self) -> Result<Checkpoint, StoreError> {
        on_backend!(self, b => b.head_checkpoint().await)
    }

    /// A checkpoint whose next read starts with the event with global position `seq` (and
    /// also returns what commits later). `None` if there is no such event.
    pub async fn checkpoint_before_event(
        &self,
        seq: i64,
    ) -> Result<Option<Checkpoint>, StoreError> {
        on_backend!(self, b => b.checkpoint_before_event(seq).await)
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

    /// The position of the first event after `seq`, if there is one (positions may have gaps:
    /// a log imported from a filtered export).
    pub async fn first_event_after(&self, seq: i64) -> Result<Option<i64>, StoreError> {
        on_backend!(self, b => b.first_event_after(seq).await)
    }

    /// A checkpoint whose next read starts with the first event recorded at or after `at`.
    /// `None` if nothing was recorded since.
    pub async fn checkpoint_before_time(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Option<Checkpoint>, StoreError> {
        match on_backend!(self, b => b.first_event_since(at).await?) {
            Some(seq) => self.checkpoint_before_event(seq).await,
            None => Ok(None),
        }
    }
}
