//! What each version's table looks like and how a batch of events is applied to it: the one
//! place that maps a `Definition` to its projection code.

use super::{board, daily, Definition};
use crate::db::{TableName, Tx};
use crate::store::RecordedEvent;

/// Why a batch could not be applied. An event error names the event, so an operator can see
/// which one stopped the projection.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("event #{seq} ({event_type} on stream {stream_id}): {message}")]
    Event {
        seq: i64,
        stream_id: String,
        event_type: String,
        message: String,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl ApplyError {
    pub fn event(recorded: &RecordedEvent, message: String) -> Self {
        ApplyError::Event {
            seq: recorded.position.seq,
            stream_id: recorded.stream_id.to_string(),
            event_type: recorded.event_type.clone(),
            message,
        }
    }
}

impl Definition {
    /// The statements that create a table (and its indexes) for this version.
    pub fn create_table_sql(&self, table: &TableName) -> Vec<String> {
        match self {
            Definition::ShipmentBoardV1 | Definition::ShipmentBoardV2 => {
                board::create_table_sql(table, self.tracks_locations())
            }
            Definition::DailyShipmentsV1 => daily::create_table_sql(table),
        }
    }

    /// Creates a table for this version inside the caller's transaction.
    pub async fn create_table(&self, tx: &mut Tx, table: &TableName) -> Result<(), sqlx::Error> {
        for statement in self.create_table_sql(table) {
            sqlx::query(&statement).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Applies a batch of events to `table` inside the caller's transaction.
    pub async fn apply(
        &self,
        tx: &mut Tx,
        table: &TableName,
        events: &[RecordedEvent],
    ) -> Result<(), ApplyError> {
        let relevant: Vec<&RecordedEvent> = events
            .iter()
            .filter(|e| self.handles(&e.event_type))
            .collect();
        if relevant.is_empty() {
            return Ok(());
        }
        match self {
            Definition::ShipmentBoardV1 | Definition::ShipmentBoardV2 => {
                board::apply(tx, table, self.tracks_locations(), &relevant).await
            }
            Definition::DailyShipmentsV1 => daily::apply(tx, table, &relevant).await,
        }
    }
}
