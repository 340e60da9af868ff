//! The catalog of projection versions (state, checkpoint, rebuild, failure, owner), the audit
//! trail of operator actions, and the node registry.

use super::db::{col, time_col, ProjectionDb, Tx};
use super::Definition;
use crate::store::{time_text, Position};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    /// Catching up from the start; not serving reads.
    Building,
    /// Caught up and kept current; not serving reads.
    Standby,
    /// Serving reads; exactly one per projection.
    Live,
    /// No longer maintained.
    Retired,
}

impl VersionState {
    pub fn as_str(&self) -> &'static str {
        match self {
            VersionState::Building => "building",
            VersionState::Standby => "standby",
            VersionState::Live => "live",
            VersionState::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            VersionState::Building,
            VersionState::Standby,
            VersionState::Live,
            VersionState::Retired,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rebuild {
    pub table: String,
    pub checkpoint: Position,
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
    pub physical_table: String,
    pub checkpoint: Position,
    pub events_applied: i64,
    pub last_event_at: Option<DateTime<Utc>>,
    pub rate_per_sec: f64,
    pub rebuild: Option<Rebuild>,
    pub failure: Option<Failure>,
    pub owner_node: Option<String>,
}

fn version_row(row: &AnyRow) -> Result<Option<VersionRow>, sqlx::Error> {
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
                table,
                checkpoint: Position {
                    tx: col(row, "rebuild_tx")?,
                    seq: col(row, "rebuild_seq")?,
                },
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
        physical_table: col(row, "physical_table")?,
        checkpoint: Position {
            tx: col(row, "checkpoint_tx")?,
            seq: col(row, "checkpoint_seq")?,
        },
        events_applied: col(row, "events_applied")?,
        last_event_at: time_col(row, "last_event_at")?,
        rate_per_sec: col(row, "rate_per_sec")?,
        rebuild,
        failure,
        owner_node: col(row, "owner_node")?,
    }))
}

/// Makes sure the version has its catalog row and table. The first version of a projection
/// starts live (there is nothing else to serve reads); later ones start building. Nodes that
/// start together race here; `ON CONFLICT DO NOTHING` without a target also covers the
/// one-live-version index, which a concurrent insert of the same live row would otherwise hit.
#[tracing::instrument(skip(db))]
pub async fn register(db: &ProjectionDb, def: Definition) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let initial = if def.version() == 1 {
        VersionState::Live
    } else {
        VersionState::Building
    };
    let inserted = sqlx::query(
        "INSERT INTO projection_versions (name, version, state, physical_table, updated_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(def.name())
    .bind(def.version())
    .bind(initial.as_str())
    .bind(def.base_table())
    .bind(time_text(Utc::now()))
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 1 {
        create_table(&mut tx, def, &def.base_table()).await?;
        audit(&mut tx, "system", "registered", def, initial.as_str()).await?;
    }
    tx.commit().await
}

async fn create_table(tx: &mut Tx, def: Definition, table: &str) -> Result<(), sqlx::Error> {
    for statement in def.create_table_sql(table) {
        sqlx::query(&statement).execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn load(db: &ProjectionDb, def: Definition) -> Result<VersionRow, sqlx::Error> {
    let row = sqlx::query("SELECT * FROM projection_versions WHERE name = $1 AND version = $2")
        .bind(def.name())
        .bind(def.version())
        .fetch_one(&db.pool)
        .await?;
    version_row(&row)?.ok_or(sqlx::Error::RowNotFound)
}

pub async fn load_all(db: &ProjectionDb) -> Result<Vec<VersionRow>, sqlx::Error> {
    let rows = sqlx::query("SELECT * FROM projection_versions ORDER BY name, version")
        .fetch_all(&db.pool)
        .await?;
    let mut out = Vec::new();
    for row in rows {
        out.extend(version_row(&row)?);
    }
    Ok(out)
}

/// The version serving reads for a projection, and its table.
pub async fn live(db: &ProjectionDb, name: &str) -> Result<Option<(i64, String)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT version, physical_table FROM projection_versions WHERE name = $1 AND state = 'live'",
    )
    .bind(name.to_string())
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| Ok((col(&r, "version")?, col(&r, "physical_table")?)))
        .transpose()
}

pub async fn audit(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    def: Definition,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projection_audit (at, actor, action, name, version, detail)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(time_text(Utc::now()))
    .bind(actor.to_string())
    .bind(action.to_string())
    .bind(def.name())
    .bind(def.version())
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub projection: String,
    pub detail: String,
}

pub async fn recent_audit(db: &ProjectionDb, limit: i64) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT at, actor, action, name, version, detail FROM projection_audit ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                at: time_col(r, "at")?.unwrap_or_default(),
                actor: col(r, "actor")?,
                action: col(r, "action")?,
                projection: format!(
                    "{}@{}",
                    col::<String>(r, "name")?,
                    col::<i64>(r, "version")?
                ),
                detail: col(r, "detail")?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeRow {
    pub name: String,
    pub capabilities: String,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
}

pub async fn heartbeat(
    db: &ProjectionDb,
    node: &str,
    capabilities: &str,
    started_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO nodes (name, capabilities, started_at, heartbeat_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET capabilities = excluded.capabilities,
             started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at",
    )
    .bind(node.to_string())
    .bind(capabilities.to_string())
    .bind(time_text(started_at))
    .bind(time_text(Utc::now()))
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn nodes(db: &ProjectionDb) -> Result<Vec<NodeRow>, sqlx::Error> {
    let rows = sqlx::query("SELECT * FROM nodes ORDER BY heartbeat_at DESC LIMIT 50")
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(NodeRow {
                name: col(r, "name")?,
                capabilities: col(r, "capabilities")?,
                started_at: time_col(r, "started_at")?.unwrap_or_default(),
                heartbeat_at: time_col(r, "heartbeat_at")?.unwrap_or_default(),
            })
        })
        .collect()
}

/// SQL assignments that forget a version's failure, and its rebuild in progress; used by every
/// statement that clears them, so none forgets a column.
pub const CLEAR_FAILURE: &str =
    "error = NULL, error_seq = NULL, error_stream = NULL, error_event_type = NULL, failed_at = NULL";
pub const CLEAR_REBUILD: &str =
    "rebuild_table = NULL, rebuild_tx = 0, rebuild_seq = 0, rebuild_done = 0, \
     rebuild_total = 0, rebuild_started_at = NULL";

/// Why an operator action was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Starts a rebuild from the first event into a fresh table. The current table keeps serving
/// (and being kept current) until the new one has caught up; then they are swapped.
#[tracing::instrument(skip(db))]
pub async fn request_rebuild(
    db: &ProjectionDb,
    def: Definition,
    actor: &str,
    total_events: i64,
) -> Result<String, ActionError> {
    let row = load(db, def).await?;
    if let Some(rebuild) = &row.rebuild {
        return Err(ActionError::Refused(format!(
            "{} is already being rebuilt ({} of {} events)",
            def.key(),
            rebuild.done,
            rebuild.total
        )));
    }
    let now = Utc::now();
    let table = format!("{}_r{}", def.base_table(), now.timestamp_millis());
    let mut tx = db.begin().await?;
    create_table(&mut tx, def, &table).await?;
    if row.state == VersionState::Retired {
        // A retired version has no table left to keep serving: build afresh, from the start.
        let revived = sqlx::query(&format!(
            "UPDATE projection_versions
             SET state = 'building', physical_table = $1, checkpoint_tx = 0, checkpoint_seq = 0,
                 events_applied = 0, last_event_at = NULL, {CLEAR_FAILURE}, updated_at = $2
             WHERE name = $3 AND version = $4 AND state = 'retired'"
        ))
        .bind(table.clone())
        .bind(time_text(now))
        .bind(def.name())
        .bind(def.version())
        .execute(&mut *tx)
        .await?;
        if revived.rows_affected() != 1 {
            // Someone else revived it meanwhile; rolling back drops the table made above.
            return Err(ActionError::Refused(format!(
                "{} changed meanwhile; try again",
                def.key()
            )));
        }
        audit(
            &mut tx,
            actor,
            "rebuild requested",
            def,
            &format!("from retired, into {table}"),
        )
        .await?;
        tx.commit().await?;
        return Ok(table);
    }
    // A failed version is rebuilt from scratch too: its error is cleared.
    let started = sqlx::query(&format!(
        "UPDATE projection_versions
         SET rebuild_table = $1, rebuild_tx = 0, rebuild_seq = 0, rebuild_done = 0, rebuild_total = $2,
             rebuild_started_at = $3, {CLEAR_FAILURE}, updated_at = $3
         WHERE name = $4 AND version = $5 AND rebuild_table IS NULL"
    ))
    .bind(table.clone())
    .bind(total_events)
    .bind(time_text(now))
    .bind(def.name())
    .bind(def.version())
    .execute(&mut *tx)
    .await?;
    if started.rows_affected() != 1 {
        // Someone else started one meanwhile; rolling back drops the table made above.
        return Err(ActionError::Refused(format!(
            "{} is already being rebuilt",
            def.key()
        )));
    }
    let detail = format!("into {table}, {total_events} events to replay");
    audit(&mut tx, actor, "rebuild requested", def, &detail).await?;
    tx.commit().await?;
    Ok(table)
}

/// Clears a failure so the daemon resumes from the checkpoint (after the cause was fixed).
#[tracing::instrument(skip(db))]
pub async fn retry(db: &ProjectionDb, def: Definition, actor: &str) -> Result<(), ActionError> {
    let row = load(db, def).await?;
    let Some(failure) = row.failure else {
        return Err(ActionError::Refused(format!(
            "{} has not failed",
            def.key()
        )));
    };
    let mut tx = db.begin().await?;
    sqlx::query(&format!(
        "UPDATE projection_versions SET {CLEAR_FAILURE}, updated_at = $1
         WHERE name = $2 AND version = $3"
    ))
    .bind(time_text(Utc::now()))
    .bind(def.name())
    .bind(def.version())
    .execute(&mut *tx)
    .await?;
    let detail = format!("after: {}", failure.error);
    audit(&mut tx, actor, "retried", def, &detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Makes `def` the version that serves reads, and the current live version its standby. Only a
/// standby that has caught up and has not failed can take over; the flip is one transaction and
/// is audited with who did it and where both versions stood. Rolling back is the same flip the
/// other way, instant because the old version was kept current.
#[tracing::instrument(skip(db, store))]
pub async fn cut_over(
    db: &ProjectionDb,
    store: &crate::store::EventStore,
    def: Definition,
    actor: &str,
) -> Result<String, ActionError> {
    let candidate = load(db, def).await?;
    let refuse = |why: String| Err(ActionError::Refused(why));
    match candidate.state {
        VersionState::Live => return refuse(format!("{} is already live", def.key())),
        VersionState::Building => {
            return refuse(format!(
                "{} is still building; wait until it is on standby",
                def.key()
            ))
        }
        VersionState::Retired => {
            return refuse(format!("{} is retired; rebuild it first", def.key()))
        }
        VersionState::Standby => {}
    }
    if let Some(failure) = &candidate.failure {
        return refuse(format!(
            "{} has failed ({}); retry or rebuild it first",
            def.key(),
            failure.error
        ));
    }
    if candidate.rebuild.is_some() {
        return refuse(format!(
            "{} is being rebuilt; wait until it finishes",
            def.key()
        ));
    }
    let (behind, _) = store.backlog(candidate.checkpoint).await?;
    if behind > 0 {
        return refuse(format!(
            "{} is {behind} events behind; cut over when it has caught up",
            def.key()
        ));
    }
    let changed_meanwhile = || {
        ActionError::Refused(format!(
            "{} changed while cutting over; try again",
            def.key()
        ))
    };
    let mut tx = db.begin().await?;
    // Demoting the live version first also locks its row, so concurrent cutovers queue here.
    let previous: Option<i64> = sqlx::query(
        "UPDATE projection_versions SET state = 'standby', updated_at = $1
         WHERE name = $2 AND state = 'live' RETURNING version",
    )
    .bind(time_text(Utc::now()))
    .bind(def.name())
    .fetch_optional(&mut *tx)
    .await?
    .map(|row| col::<i64>(&row, "version"))
    .transpose()?;
    let promoted = sqlx::query(
        "UPDATE projection_versions SET state = 'live', updated_at = $1
         WHERE name = $2 AND version = $3 AND state = 'standby' AND error IS NULL AND rebuild_table IS NULL",
    )
    .bind(time_text(Utc::now()))
    .bind(def.name())
    .bind(def.version())
    .execute(&mut *tx)
    .await;
    let promoted = match promoted {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(changed_meanwhile()),
        other => other?,
    };
    if promoted.rows_affected() != 1 {
        return Err(changed_meanwhile());
    }
    let action = if previous.is_some_and(|p| p > def.version()) {
        "rolled back"
    } else {
        "cut over"
    };
    let mut positions = Vec::new();
    for version in previous.into_iter().chain([def.version()]) {
        if let Some(d) = Definition::find(def.name(), version) {
            let row = load(db, d).await?;
            positions.push(format!("{} at #{}", d.key(), row.checkpoint.seq));
        }
    }
    let detail = match previous {
        Some(p) => format!(
            "{}@{p} → {} ({})",
            def.name(),
            def.key(),
            positions.join(", ")
        ),
        None => format!("{} is live ({})", def.key(), positions.join(", ")),
    };
    audit(&mut tx, actor, action, def, &detail).await?;
    tx.commit().await?;
    Ok(detail)
}

/// Stops maintaining a version that no longer serves reads and drops its tables. It can be
/// brought back by rebuilding it.
#[tracing::instrument(skip(db))]
pub async fn retire(db: &ProjectionDb, def: Definition, actor: &str) -> Result<(), ActionError> {
    let row = load(db, def).await?;
    match row.state {
        VersionState::Live => {
            return Err(ActionError::Refused(format!(
                "{} is live; cut over to another version before retiring it",
                def.key()
            )))
        }
        VersionState::Retired => {
            return Err(ActionError::Refused(format!(
                "{} is already retired",
                def.key()
            )))
        }
        VersionState::Building | VersionState::Standby => {}
    }
    let mut tx = db.begin().await?;
    // Only the tables read above are dropped: if a rebuild started or finished meanwhile,
    // the row no longer matches and the retire is refused.
    let rebuild_table = row.rebuild.as_ref().map(|r| r.table.clone());
    let retired = sqlx::query(&format!(
        "UPDATE projection_versions
         SET state = 'retired', {CLEAR_REBUILD}, {CLEAR_FAILURE}, updated_at = $1
         WHERE name = $2 AND version = $3 AND state <> 'live' AND state <> 'retired'
           AND physical_table = $4 AND rebuild_table IS NOT DISTINCT FROM $5"
    ))
    .bind(time_text(Utc::now()))
    .bind(def.name())
    .bind(def.version())
    .bind(row.physical_table.clone())
    .bind(rebuild_table.clone())
    .execute(&mut *tx)
    .await?;
    if retired.rows_affected() != 1 {
        return Err(ActionError::Refused(format!(
            "{} changed meanwhile; try again",
            def.key()
        )));
    }
    for table in [
        Some(row.physical_table.clone()),
        row.rebuild.map(|r| r.table),
    ]
    .into_iter()
    .flatten()
    {
        let table = super::db::checked_table_name(&table);
        sqlx::query(&format!("DROP TABLE IF EXISTS {table}"))
            .execute(&mut *tx)
            .await?;
    }
    audit(
        &mut tx,
        actor,
        "retired",
        def,
        &format!("dropped {}", row.physical_table),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
