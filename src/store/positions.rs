//! Finding places in the global log for readers that start somewhere other than the beginning
//! (a new subscription starts at the head; an admin rewinds one to a position or a time).
//! Positions follow the readers' order; each backend knows its own.

use super::backend::Backend;
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
