//! The repository of `projection_versions`: every statement on that table is here, named for
//! what it does. Each state-changing statement is conditional on the row being as the caller
//! read it, so two nodes or two operators cannot both apply a change.

use super::lifecycle::{VersionFacts, VersionState};
use super::Definition;
use crate::db::{checkpoint_col, col, time_col, time_text, PortableDb, TableName, Tx};
use crate::store::Checkpoint;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct Rebuild {
    pub table: TableName,
    pub checkpoint: Checkpoint,
    pub done: i64,
    pub total: i64,
    pub started_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub error: String,
    pub event_seq: Option<i64>,
    pub stream_id: Option<String>,
    pub event_type: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VersionRow {
    pub def: Definition,
    pub state: VersionState,
    pub physical_table: TableName,
    pub checkpoint: Checkpoint,
    pub events_applied: i64,
    pub last_event_at: Option<DateTime<Utc>>,
    pub rate_per_sec: f64,
    pub rebuild: Option<Rebuild>,
    pub failure: Option<Failure>,
    pub owner_node: Option<String>,
}

impl VersionRow {
    /// What the lifecycle decides on, given how far behind the log it is and which version
    /// of the same projection is live.
    pub fn facts(&self, behind: i64, live_version: Option<i64>) -> VersionFacts {
        VersionFacts {
            key: self.def.key(),
            state: self.state,
            failure: self.failure.as_ref().map(|f| f.error.clone()),
            failed_event: self.failure.as_ref().and_then(|f| f.event_seq),
            rebuild: self.rebuild.as_ref().map(|r| (r.done, r.total)),
            behind,
            older_than_live: live_version.is_some_and(|live| live > self.def.version()),
        }
    }
}

/// Assignments that forget a failure, and a rebuild in progress: used by every statement that
/// clears them, so none forgets a column.
const CLEAR_FAILURE: &str =
    "error = NULL, error_seq = NULL, error_stream = NULL, error_event_type = NULL, failed_at = NULL";
const CLEAR_REBUILD: &str = "rebuild_table = NULL, rebuild_snapshot = '', rebuild_seq = 0, \
     rebuild_done = 0, rebuild_total = 0, rebuild_started_at = NULL";

fn decode(row: &AnyRow) -> Result<Option<VersionRow>, sqlx::Error> {
    let name: String = col(row, "name")?;
    let version: i64 = col(row, "version")?;
    // Rows of versions this build does not know (registered by a newer node) are not ours.
    let Some(def) = Definition::find(&name, version) else {
        return Ok(None);
    };
    let state: String = col(row, "state")?;
    let rebuild = col::<Option<String>>(row, "rebuild_table")?
        .map(|table| -> Result<Rebuild, sqlx::Error> {
            Ok(Rebuild {
                table: TableName::parse(&table)?,
                checkpoint: checkpoint_col(row, "rebuild")?,
                done: col(row, "rebuild_done")?,
                total: col(row, "rebuild_total")?,
                started_at: time_col(row, "rebuild_started_at")?,
            })
        })
        .transpose()?;
    let failure = col::<Option<String>>(row, "error")?
        .map(|error| -> Result<Failure, sqlx::Error> {
            Ok(Failure {
                error,
                event_seq: col(row, "error_seq")?,
                stream_id: col(row, "error_stream")?,
                event_type: col(row, "error_event_type")?,
                at: time_col(row, "failed_at")?,
            })
        })
        .transpose()?;
    Ok(Some(VersionRow {
        def,
        state: VersionState::parse(&state)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown state {state}").into()))?,
        physical_table: TableName::parse(&col::<String>(row, "physical_table")?)?,
        checkpoint: checkpoint_col(row, "checkpoint")?,
        events_applied: col(row, "events_applied")?,
        last_event_at: time_col(row, "last_event_at")?,
        rate_per_sec: col(row, "rate_per_sec")?,
        rebuild,
        failure,
        owner_node: col(row, "owner_node")?,
    }))
}

fn now() -> String {
    time_text(Utc::now())
}

/// Inserts the version's row unless it exists; true when this call inserted it. Nodes that
/// start together race here; `ON CONFLICT DO NOTHING` without a target also covers the
/// one-live-version index, which a concurrent insert of the same live row would otherwise hit.
pub async fn insert(
    tx: &mut Tx,
    def: Definition,
    state: VersionState,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO projection_versions (name, version, state, physical_table, updated_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(def.name())
    .bind(def.version())
    .bind(state.as_str())
    .bind(def.base_table())
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn load(db: &PortableDb, def: Definition) -> Result<VersionRow, sqlx::Error> {
    let row = sqlx::query("SELECT * FROM projection_versions WHERE name = $1 AND version = $2")
        .bind(def.name())
        .bind(def.version())
        .fetch_one(db.read())
        .await?;
    decode(&row)?.ok_or(sqlx::Error::RowNotFound)
}

/// How many rows a version's table holds (what readers of it see).
pub async fn row_count(db: &PortableDb, table: &TableName) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(db.read())
        .await?;
    col(&row, "n")
}

/// The same, inside a transaction: what the row is where a decision is written.
pub async fn load_in(tx: &mut Tx, def: Definition) -> Result<VersionRow, sqlx::Error> {
    let row = sqlx::query("SELECT * FROM projection_versions WHERE name = $1 AND version = $2")
        .bind(def.name())
        .bind(def.version())
        .fetch_one(&mut **tx)
        .await?;
    decode(&row)?.ok_or(sqlx::Error::RowNotFound)
}

pub async fn load_all(db: &PortableDb) -> Result<Vec<VersionRow>, sqlx::Error> {
    let rows = sqlx::query("SELECT * FROM projection_versions ORDER BY name, version")
        .fetch_all(db.read())
        .await?;
    let mut out = Vec::new();
    for row in rows {
        out.extend(decode(&row)?);
    }
    Ok(out)
}

/// The version serving reads for a projection, and its table.
pub async fn live(
    db: &PortableDb,
    name: &str,
) -> Result<Option<(Definition, TableName)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT version, physical_table FROM projection_versions WHERE name = $1 AND state = $2",
    )
    .bind(name.to_string())
    .bind(VersionState::Live.as_str())
    .fetch_optional(db.read())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let def = Definition::find(name, col(&row, "version")?);
    let table = TableName::parse(&col::<String>(&row, "physical_table")?)?;
    Ok(def.map(|def| (def, table)))
}

pub async fn set_owner(
    db: &PortableDb,
    def: Definition,
    owner: Option<&str>,
) -> Result<(), sqlx::Error> {
    db.execute(
        sqlx::query(
            "UPDATE projection_versions SET owner_node = $1 WHERE name = $2 AND version = $3",
        )
        .bind(owner.map(str::to_string))
        .bind(def.name())
        .bind(def.version()),
    )
    .await?;
    Ok(())
}

pub async fn set_rate(db: &PortableDb, def: Definition, rate: f64) -> Result<(), sqlx::Error> {
    db.execute(
        sqlx::query(
            "UPDATE projection_versions SET rate_per_sec = $1 WHERE name = $2 AND version = $3",
        )
        .bind(rate)
        .bind(def.name())
        .bind(def.version()),
    )
    .await?;
    Ok(())
}

/// One applied batch of the version's own table.
pub struct Advance<'a> {
    pub from: &'a Checkpoint,
    pub to: &'a Checkpoint,
    pub events: i64,
    pub last_event_at: Option<DateTime<Utc>>,
    pub rate: f64,
    pub node: &'a str,
}

/// Moves the checkpoint past an applied batch, only if it is still where the batch started.
pub async fn advance(tx: &mut Tx, def: Definition, a: Advance<'_>) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE projection_versions
         SET checkpoint_snapshot = $1, checkpoint_seq = $2, events_applied = events_applied + $3,
             last_event_at = $4, rate_per_sec = $5, owner_node = $6, updated_at = $7
         WHERE name = $8 AND version = $9 AND checkpoint_snapshot = $10 AND checkpoint_seq = $11",
    )
    .bind(a.to.snapshot_text())
    .bind(a.to.seq)
    .bind(a.events)
    .bind(a.last_event_at.map(time_text))
    .bind(a.rate)
    .bind(a.node.to_string())
    .bind(now())
    .bind(def.name())
    .bind(def.version())
    .bind(a.from.snapshot_text())
    .bind(a.from.seq)
    .execute(&mut **tx)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// Moves a rebuild's checkpoint past an applied batch, only if it is still where it started.
pub async fn advance_rebuild(
    tx: &mut Tx,
    def: Definition,
    rebuild: &Rebuild,
    to: &Checkpoint,
    events: i64,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE projection_versions
         SET rebuild_snapshot = $1, rebuild_seq = $2, rebuild_done = rebuild_done + $3, updated_at = $4
         WHERE name = $5 AND version = $6 AND rebuild_table = $7 AND rebuild_snapshot = $8
           AND rebuild_seq = $9",
    )
    .bind(to.snapshot_text())
    .bind(to.seq)
    .bind(events)
    .bind(now())
    .bind(def.name())
    .bind(def.version())
    .bind(rebuild.table.to_string())
    .bind(rebuild.checkpoint.snapshot_text())
    .bind(rebuild.checkpoint.seq)
    .execute(&mut **tx)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// Makes the rebuilt table the version's table, with the rebuild's checkpoint.
pub async fn finish_rebuild(
    tx: &mut Tx,
    def: Definition,
    table: &TableName,
) -> Result<bool, sqlx::Error> {
    let swapped = sqlx::query(&format!(
        "UPDATE projection_versions
         SET physical_table = rebuild_table, checkpoint_snapshot = rebuild_snapshot,
             checkpoint_seq = rebuild_seq,
             events_applied = rebuild_done, {CLEAR_REBUILD}, updated_at = $1
         WHERE name = $2 AND version = $3 AND rebuild_table = $4"
    ))
    .bind(now())
    .bind(def.name())
    .bind(def.version())
    .bind(table.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(swapped.rows_affected() == 1)
}

/// Moves a building version to standby; true when this call did.
pub async fn mark_caught_up(tx: &mut Tx, def: Definition) -> Result<bool, sqlx::Error> {
    set_state_from(tx, def, VersionState::Building, VersionState::Standby).await
}

/// Moves the version from `from` to `to`; true when it was in `from`.
pub async fn set_state_from(
    tx: &mut Tx,
    def: Definition,
    from: VersionState,
    to: VersionState,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE projection_versions SET state = $1, updated_at = $2
         WHERE name = $3 AND version = $4 AND state = $5",
    )
    .bind(to.as_str())
    .bind(now())
    .bind(def.name())
    .bind(def.version())
    .bind(from.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(changed.rows_affected() == 1)
}

/// Records why the version stopped (never onto a retired version).
pub async fn fail(tx: &mut Tx, def: Definition, failure: &Failure) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE projection_versions
         SET error = $1, error_seq = $2, error_stream = $3, error_event_type = $4, failed_at = $5, updated_at = $5
         WHERE name = $6 AND version = $7 AND state <> $8",
    )
    .bind(failure.error.clone())
    .bind(failure.event_seq)
    .bind(failure.stream_id.clone())
    .bind(failure.event_type.clone())
    .bind(now())
    .bind(def.name())
    .bind(def.version())
    .bind(VersionState::Retired.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn clear_failure(tx: &mut Tx, def: Definition) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "UPDATE projection_versions SET {CLEAR_FAILURE}, updated_at = $1
         WHERE name = $2 AND version = $3"
    ))
    .bind(now())
    .bind(def.name())
    .bind(def.version())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Starts filling `table` from the first event beside the current table (clearing a
/// failure: the rebuild starts from scratch). False when a rebuild already runs.
pub async fn start_rebuild(
    tx: &mut Tx,
    def: Definition,
    table: &TableName,
    total_events: i64,
) -> Result<bool, sqlx::Error> {
    let started = sqlx::query(&format!(
        "UPDATE projection_versions
         SET rebuild_table = $1, rebuild_snapshot = '', rebuild_seq = 0, rebuild_done = 0,
             rebuild_total = $2,
             rebuild_started_at = $3, {CLEAR_FAILURE}, updated_at = $3
         WHERE name = $4 AND version = $5 AND rebuild_table IS NULL"
    ))
    .bind(table.to_string())
    .bind(total_events)
    .bind(now())
    .bind(def.name())
    .bind(def.version())
    .execute(&mut **tx)
    .await?;
    Ok(started.rows_affected() == 1)
}

/// Brings a retired version back as building into a fresh `table`, from the first event.
pub async fn revive(tx: &mut Tx, def: Definition, table: &TableName) -> Result<bool, sqlx::Error> {
    let revived = sqlx::query(&format!(
        "UPDATE projection_versions
         SET state = $1, physical_table = $2, checkpoint_snapshot = '', checkpoint_seq = 0,
             events_applied = 0, last_event_at = NULL, {CLEAR_FAILURE}, updated_at = $3
         WHERE name = $4 AND version = $5 AND state = $6"
    ))
    .bind(VersionState::Building.as_str())
    .bind(table.to_string())
    .bind(now())
    .bind(def.name())
    .bind(def.version())
    .bind(VersionState::Retired.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(revived.rows_affected() == 1)
}

/// Demotes the projection's live version to standby (unless it is `keep`) and returns its
/// version. Doing this first also locks that row, so concurrent cutovers queue behind each
/// other, and the second one then finds its candidate already live.
pub async fn demote_live(tx: &mut Tx, name: &str, keep: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query(
        "UPDATE projection_versions SET state = $1, updated_at = $2
         WHERE name = $3 AND state = $4 AND version <> $5 RETURNING version",
    )
    .bind(VersionState::Standby.as_str())
    .bind(now())
    .bind(name.to_string())
    .bind(VersionState::Live.as_str())
    .bind(keep)
    .fetch_optional(&mut **tx)
    .await?
    .map(|row| col::<i64>(&row, "version"))
    .transpose()
}

/// Makes a healthy standby live; false when it is no longer one (or another went live).
pub async fn promote(tx: &mut Tx, def: Definition) -> Result<bool, sqlx::Error> {
    let promoted = sqlx::query(
        "UPDATE projection_versions SET state = $1, updated_at = $2
         WHERE name = $3 AND version = $4 AND state = $5 AND error IS NULL AND rebuild_table IS NULL",
    )
    .bind(VersionState::Live.as_str())
    .bind(now())
    .bind(def.name())
    .bind(def.version())
    .bind(VersionState::Standby.as_str())
    .execute(&mut **tx)
    .await;
    match promoted {
        Ok(done) => Ok(done.rows_affected() == 1),
        // The one-live-version index: someone else made another version live meanwhile.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Retires a version whose tables are still the ones the caller read; true when it did.
pub async fn retire(tx: &mut Tx, row: &VersionRow) -> Result<bool, sqlx::Error> {
    let retired = sqlx::query(&format!(
        "UPDATE projection_versions
         SET state = $1, {CLEAR_REBUILD}, {CLEAR_FAILURE}, updated_at = $2
         WHERE name = $3 AND version = $4 AND state <> $5 AND state <> $1
           AND physical_table = $6 AND rebuild_table IS NOT DISTINCT FROM $7"
    ))
    .bind(VersionState::Retired.as_str())
    .bind(now())
    .bind(row.def.name())
    .bind(row.def.version())
    .bind(VersionState::Live.as_str())
    .bind(row.physical_table.to_string())
    .bind(row.rebuild.as_ref().map(|r| r.table.to_string()))
    .execute(&mut **tx)
    .await?;
    Ok(retired.rows_affected() == 1)
}
