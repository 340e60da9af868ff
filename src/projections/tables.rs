//! What each version's table looks like and how a batch of events is applied to it: the one
//! place that maps a `Definition` to its projection code.

use super::{board, daily, Definition};
use crate::db::{Flavor, TableName, Tx};
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
    /// The statements that create a table (and its indexes and companions) for this version.
    pub fn create_table_sql(&self, table: &TableName, flavor: Flavor) -> Vec<String> {
        match self {
            Definition::ShipmentBoardV1 | Definition::ShipmentBoardV2 => {
                board::create_table_sql(table, self.tracks_locations(), flavor)
            }
            Definition::DailyShipmentsV1 => daily::create_table_sql(table),
        }
    }

    /// Creates a table for this version inside the caller's transaction.
    pub async fn create_table(&self, tx: &mut Tx, table: &TableName) -> Result<(), sqlx::Error> {
        for statement in self.create_table_sql(table, tx.flavor()) {
            sqlx::query(&statement).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Drops a table of this version with its companions (a board's search table).
    pub async fn drop_table(&self, tx: &mut Tx, table: &TableName) -> Result<(), sqlx::Error> {
        let mut tables = vec![table.to_string()];
        if self.name() == super::definition::SHIPMENT_BOARD {
            tables.push(board::search_table(table));
        }
        for table in tables {
            sqlx::query(&format!("DROP TABLE IF EXISTS {table}"))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Brings a table made by an older freightdesk up to what `create_table` makes now.
    pub async fn upgrade_table(&self, tx: &mut Tx, table: &TableName) -> Result<(), sqlx::Error> {
        if self.name() == super::definition::SHIPMENT_BOARD {
            board::ensure_search_table(tx, table).await?;
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
