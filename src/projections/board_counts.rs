//! The `board_counts` table: how many shipments each board table holds per status, written by
//! the batch that changes them (in its transaction, so they are exact whenever the rows are),
//! read by the board instead of counting the whole table on every request. Every statement on
//! the table is here.

use crate::db::{col, PortableDb, TableName, Tx};
use crate::domain::ShipmentStatus;
use std::collections::BTreeMap;

/// How a batch moved shipments between statuses: per status, shipments in minus out, and how
/// many moved in or out.
#[derive(Debug, Default, PartialEq)]
pub struct StatusMoves(BTreeMap<&'static str, Moved>);

#[derive(Debug, Default, PartialEq, Clone, Copy)]
struct Moved {
    net: i64,
    changes: i64,
}

impl StatusMoves {
    /// A shipment went from `before` (None: it is new to the board) to `after`.
    pub fn record(&mut self, before: Option<ShipmentStatus>, after: ShipmentStatus) {
        if before == Some(after) {
            return;
        }
        if let Some(before) = before {
            let left = self.0.entry(before.as_str()).or_default();
            left.net -= 1;
            left.changes += 1;
        }
        let entered = self.0.entry(after.as_str()).or_default();
        entered.net += 1;
        entered.changes += 1;
    }
}

/// Adds a batch's moves to the table's counts, inside the batch's transaction.
pub async fn apply(tx: &mut Tx, table: &TableName, moves: &StatusMoves) -> Result<(), sqlx::Error> {
    for (status, moved) in &moves.0 {
        sqlx::query(
            "INSERT INTO board_counts (board_table, status, shipments, changes)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (board_table, status) DO UPDATE
             SET shipments = board_counts.shipments + excluded.shipments,
                 changes = board_counts.changes + excluded.changes",
        )
        .bind(table.as_str().to_string())
        .bind(*status)
        .bind(moved.net)
        .bind(moved.changes)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Counts a table made before counts were kept (by an older freightdesk), from its rows. A
/// table with counts already has them right: they change only with its rows.
pub async fn ensure(tx: &mut Tx, table: &TableName) -> Result<(), sqlx::Error> {
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM board_counts WHERE board_table = $1")
        .bind(table.as_str().to_string())
        .fetch_one(&mut **tx)
        .await?;
    if kept > 0 {
        return Ok(());
    }
    sqlx::query(&format!(
        "INSERT INTO board_counts (board_table, status, shipments, changes)
         SELECT $1, status, COUNT(*), COUNT(*) FROM {table} GROUP BY status"
    ))
    .bind(table.as_str().to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Forgets a dropped table's counts.
pub async fn forget(tx: &mut Tx, table: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM board_counts WHERE board_table = $1")
        .bind(table.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A board table's counts as read at one moment.
#[derive(Debug, Clone, Default)]
pub struct BoardCounts {
    by_status: Vec<(String, i64, i64)>,
}

impl BoardCounts {
    /// Shipments in `status`, or on the whole board.
    pub fn shipments(&self, status: Option<ShipmentStatus>) -> i64 {
        self.in_scope(status)
            .map(|(_, shipments, _)| shipments)
            .sum()
    }

    /// A number that changes whenever the set of shipments in `status` (or on the whole board)
    /// changes, so a count over that set remembered with it is exact while it is the same.
    /// For the whole board it is the number of shipments: rows are only ever added to a board
    /// (a shipment keeps its row whatever happens to it), so the set changes only by growing.
    pub fn membership_stamp(&self, status: Option<ShipmentStatus>) -> i64 {
        match status {
            Some(_) => self.in_scope(status).map(|(_, _, changes)| changes).sum(),
            None => self.shipments(None),
        }
    }

    fn in_scope(
        &self,
        status: Option<ShipmentStatus>,
    ) -> impl Iterator<Item = (&str, i64, i64)> + '_ {
        self.by_status
            .iter()
            .filter(move |(s, _, _)| status.is_none_or(|wanted| wanted.as_str() == s))
            .map(|(s, shipments, changes)| (s.as_str(), *shipments, *changes))
    }
}

pub async fn read(db: &PortableDb, table: &TableName) -> Result<BoardCounts, sqlx::Error> {
    let rows =
        sqlx::query("SELECT status, shipments, changes FROM board_counts WHERE board_table = $1")
            .bind(table.as_str().to_string())
            .fetch_all(db.read())
            .await?;
    let by_status = rows
        .iter()
        .map(|r| Ok((col(r, "status")?, col(r, "shipments")?, col(r, "changes")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(BoardCounts { by_status })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ShipmentStatus::*;

    fn counts(moves: &StatusMoves) -> BoardCounts {
        BoardCounts {
            by_status: moves
                .0
                .iter()
                .map(|(s, m)| (s.to_string(), m.net, m.changes))
                .collect(),
        }
    }

    #[test]
    fn a_move_counts_out_of_one_status_and_into_the_next() {
        let mut moves = StatusMoves::default();
        moves.record(None, Scheduled);
        moves.record(None, Scheduled);
        moves.record(Some(Scheduled), InTransit);
        moves.record(Some(InTransit), InTransit);
        let board = counts(&moves);
        assert_eq!(board.shipments(None), 2);
        assert_eq!(board.shipments(Some(Scheduled)), 1);
        assert_eq!(board.shipments(Some(InTransit)), 1);
        assert_eq!(board.shipments(Some(Delivered)), 0);
        // Scheduled saw three changes (two in, one out), In transit one.
        assert_eq!(board.membership_stamp(Some(Scheduled)), 3);
        assert_eq!(board.membership_stamp(Some(InTransit)), 1);
        assert_eq!(board.membership_stamp(None), 2);
    }
}
