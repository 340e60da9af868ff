//! What each version's table looks like and how a batch of events is applied to it: the one
//! place that maps a `Definition` to its projection code.

use super::board::SearchUpkeep;
use super::definition::SHIPMENT_BOARD;
use super::{board, board_counts, daily, Definition};
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

    /// Creates a table for this version, with its companions (a board's search table), inside
    /// the caller's transaction.
    pub async fn create_table(&self, tx: &mut Tx, table: &TableName) -> Result<(), sqlx::Error> {
        self.create_rebuild_table(tx, table).await?;
        self.complete_table(tx, table).await
    }

    /// Creates a table for a rebuild: its companions come when it is complete.
    pub async fn create_rebuild_table(
        &self,
        tx: &mut Tx,
        table: &TableName,
    ) -> Result<(), sqlx::Error> {
        for statement in self.create_table_sql(table) {
            sqlx::query(&statement).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Gives a table the companions it lacks, made from its rows (a board's search table,
    /// counts and sort indexes): a rebuild's table when it has caught up, or a table made by an
    /// older freightdesk.
    pub async fn complete_table(&self, tx: &mut Tx, table: &TableName) -> Result<(), sqlx::Error> {
        if self.name() == SHIPMENT_BOARD {
            board::ensure_search_table(tx, table).await?;
        }
        self.upgrade_table(tx, table).await
    }

    /// Gives a table what every batch keeps up from the first one (a board's counts and sort
    /// indexes), and nothing that waits for the table to be complete: for a rebuild's table
    /// still being filled, made by an older freightdesk. Its search rows come when it has
    /// caught up; made now, the batches still to come would not add theirs.
    pub async fn upgrade_table(&self, tx: &mut Tx, table: &TableName) -> Result<(), sqlx::Error> {
        if self.name() == SHIPMENT_BOARD {
            board_counts::ensure(tx, table).await?;
            board::ensure_sort_indexes(tx, table).await?;
        }
        Ok(())
    }

    /// Drops a table of this version with its companions.
    pub async fn drop_table(&self, tx: &mut Tx, table: &TableName) -> Result<(), sqlx::Error> {
        let mut tables = vec![table.to_string()];
        if self.name() == SHIPMENT_BOARD {
            tables.push(board::search_table(table));
            board_counts::forget(tx, table.as_str()).await?;
        }
        for table in tables {
            sqlx::query(&format!("DROP TABLE IF EXISTS {table}"))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Applies a batch of events to `table` inside the caller's transaction.
    pub async fn apply(
        &self,
        tx: &mut Tx,
        table: &TableName,
        search: SearchUpkeep,
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
                board::apply(tx, table, self.tracks_locations(), search, &relevant).await
            }
            Definition::DailyShipmentsV1 => daily::apply(tx, table, &relevant).await,
        }
    }
}
