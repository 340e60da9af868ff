//! The `subscriptions` table: every statement on it is here.

use super::{EventSelection, SubscriptionState};
use crate::db::{checkpoint_col, col, time_col, time_text, PortableDb, Tx};
use crate::store::Checkpoint;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

/// One subscription as stored, secret included: server side only.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRow {
    pub id: i64,
    pub name: String,
    pub target_url: String,
    pub selection: EventSelection,
    pub secret: String,
    pub state: SubscriptionState,
    pub max_attempts: i64,
    pub checkpoint: Checkpoint,
    pub owner: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

pub struct NewSubscription<'a> {
    pub name: &'a str,
    pub target_url: &'a str,
    pub selection: &'a EventSelection,
    pub secret: &'a str,
    pub max_attempts: i64,
    /// Where it starts reading: new subscriptions hear only what happens from now on.
    pub checkpoint: Checkpoint,
    pub created_by: &'a str,
}

const COLUMNS: &str = "id, name, target_url, event_types, place_filter, secret, state, \
                       max_attempts, checkpoint_snapshot, checkpoint_seq, owner, created_at, \
                       created_by";

fn decode(r: &AnyRow) -> Result<SubscriptionRow, sqlx::Error> {
    let state: String = col(r, "state")?;
    Ok(SubscriptionRow {
        id: col(r, "id")?,
        name: col(r, "name")?,
        target_url: col(r, "target_url")?,
        selection: EventSelection::from_stored(
            &col::<String>(r, "event_types")?,
            &col::<String>(r, "place_filter")?,
        ),
        secret: col(r, "secret")?,
        state: SubscriptionState::parse(&state).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown subscription state {state:?}").into())
        })?,
        max_attempts: col(r, "max_attempts")?,
        checkpoint: checkpoint_col(r, "checkpoint")?,
        owner: col(r, "owner")?,
        created_at: time_col(r, "created_at")?.unwrap_or_default(),
        created_by: col(r, "created_by")?,
    })
}

#[tracing::instrument(skip(tx, new), fields(name = new.name))]
pub async fn insert(tx: &mut Tx, new: NewSubscription<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO subscriptions (name, target_url, event_types, place_filter, secret, state,
                                    max_attempts, checkpoint_snapshot, checkpoint_seq, created_at,
                                    created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING id",
    )
    .bind(new.name.to_string())
    .bind(new.target_url.to_string())
    .bind(new.selection.types_text())
    .bind(new.selection.place().to_string())
    .bind(new.secret.to_string())
    .bind(SubscriptionState::Active.as_str())
    .bind(new.max_attempts)
    .bind(new.checkpoint.snapshot_text())
    .bind(new.checkpoint.seq)
    .bind(time_text(Utc::now()))
    .bind(new.created_by.to_string())
    .fetch_one(&mut **tx)
    .await
}

pub async fn find(db: &PortableDb, id: i64) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .as_ref()
    .map(decode)
    .transpose()
}

pub async fn find_in(tx: &mut Tx, id: i64) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .as_ref()
    .map(decode)
    .transpose()
}

pub async fn find_by_name(
    db: &PortableDb,
    name: &str,
) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE name = $1"
    ))
    .bind(name.to_string())
    .fetch_optional(db.read())
    .await?
    .as_ref()
    .map(decode)
    .transpose()
}

pub async fn list(db: &PortableDb) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM subscriptions ORDER BY name"
    ))
    .fetch_all(db.read())
    .await?
    .iter()
    .map(decode)
    .collect()
}

pub async fn ids(db: &PortableDb) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM subscriptions ORDER BY id")
        .fetch_all(db.read())
        .await
}

pub async fn set_state(
    tx: &mut Tx,
    id: i64,
    state: SubscriptionState,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE subscriptions SET state = $1 WHERE id = $2 AND state <> $1")
        .bind(state.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves the checkpoint from `from` to `to`; false when it is no longer at `from` (another
/// node, or a rewind, moved it): the caller must roll back what it wrote for this batch.
pub async fn advance(
    tx: &mut Tx,
    id: i64,
    from: &Checkpoint,
    to: &Checkpoint,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE subscriptions SET checkpoint_snapshot = $1, checkpoint_seq = $2
         WHERE id = $3 AND checkpoint_snapshot = $4 AND checkpoint_seq = $5",
    )
    .bind(to.snapshot_text())
    .bind(to.seq)
    .bind(id)
    .bind(from.snapshot_text())
    .bind(from.seq)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets the checkpoint wherever it is (an admin's rewind).
pub async fn rewind(tx: &mut Tx, id: i64, to: &Checkpoint) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE subscriptions SET checkpoint_snapshot = $1, checkpoint_seq = $2 WHERE id = $3",
    )
    .bind(to.snapshot_text())
    .bind(to.seq)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_owner(db: &PortableDb, id: i64, owner: Option<&str>) -> Result<(), sqlx::Error> {
    db.execute(
        sqlx::query("UPDATE subscriptions SET owner = $1 WHERE id = $2")
            .bind(owner.map(str::to_string))
            .bind(id),
    )
    .await?;
    Ok(())
}

/// The caller removes the subscription's deliveries first (`deliveries::delete_all`).
pub async fn delete(tx: &mut Tx, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM subscriptions WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
