//! Every audited operator action on projection versions: register, rebuild, retry, cut over
//! (and roll back), retire, and around the rollout: accept a comparison's differences, skip a
//! poison event, acknowledge skips, save settings, acknowledge an alert. Each one asks the
//! lifecycle (or the data) whether it may happen, applies it in one transaction whose
//! statements are conditional on what was read, and audits it.

use super::audit::{self, SYSTEM};
use super::lifecycle::{
    cut_over_audit_action, transition, AuditAction, OperatorAction, Refusal, VersionState,
};
use super::settings::Settings;
use super::versions::{self, VersionRow};
use super::{alerts, comparisons, settings, skips, Definition};
use crate::db::{PortableDb, TableName};
use crate::store::{EventStore, StoreError};
use chrono::Utc;

/// Why an operator action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Query(#[from] super::queries::QueryError),
}

/// Makes sure the version has its catalog row and table. The first version of a projection
/// starts live (there is nothing else to serve reads); later ones start building.
#[tracing::instrument(skip(db))]
pub async fn register(db: &PortableDb, def: Definition) -> Result<(), sqlx::Error> {
    let initial = if def.version() == 1 {
        VersionState::Live
    } else {
        VersionState::Building
    };
    let mut tx = db.begin().await?;
    if versions::insert(&mut tx, def, initial).await? {
        def.create_table(&mut tx, &TableName::parse(&def.base_table())?)
            .await?;
        audit::record(
            &mut tx,
            SYSTEM,
            AuditAction::Registered,
            def,
            initial.as_str(),
        )
        .await?;
    } else {
        // A table made by an older freightdesk gets what a new one has (a retired one has none).
        let row = versions::load_in(&mut tx, def).await?;
        if row.state != VersionState::Retired {
            def.complete_table(&mut tx, &row.physical_table).await?;
            if let Some(rebuild) = row.rebuild.as_ref() {
                def.upgrade_table(&mut tx, &rebuild.table).await?;
            }
        }
    }
    tx.commit().await
}

/// Starts a rebuild from the first event into a fresh table. The current table keeps serving
/// (and being kept current) until the new one has caught up; then they are swapped.
#[tracing::instrument(skip(db))]
pub async fn request_rebuild(
    db: &PortableDb,
    def: Definition,
    actor: &str,
    total_events: i64,
) -> Result<TableName, ActionError> {
    let row = versions::load(db, def).await?;
    transition(&row.facts(0, None), OperatorAction::Rebuild)?;
    let table = TableName::parse(&format!(
        "{}_r{}",
        def.base_table(),
        Utc::now().timestamp_millis()
    ))
    .map_err(sqlx::Error::from)?;
    let mut tx = db.begin().await?;
    if row.state == VersionState::Retired {
        // Revived, it is kept current in place (no rebuild swaps it in): a whole table now.
        def.create_table(&mut tx, &table).await?;
    } else {
        def.create_rebuild_table(&mut tx, &table).await?;
    }
    // A retired version has no table left to keep serving: it builds afresh, from the start.
    // Either way, if someone else acted meanwhile, rolling back drops the table made above.
    let (started, detail) = if row.state == VersionState::Retired {
        (
            versions::revive(&mut tx, def, &table).await?,
            format!("from retired, into {table}"),
        )
    } else {
        (
            versions::start_rebuild(&mut tx, def, &table, total_events).await?,
            format!("into {table}, {total_events} events to replay"),
        )
    };
    if !started {
        return Err(Refusal::ChangedMeanwhile(def.key()).into());
    }
    audit::record(&mut tx, actor, AuditAction::RebuildRequested, def, &detail).await?;
    tx.commit().await?;
    Ok(table)
}

/// Clears a failure so the daemon resumes from the checkpoint (after the cause was fixed).
#[tracing::instrument(skip(db))]
pub async fn retry(db: &PortableDb, def: Definition, actor: &str) -> Result<(), ActionError> {
    let row = versions::load(db, def).await?;
    transition(&row.facts(0, None), OperatorAction::Retry)?;
    let error = row.failure.map(|f| f.error).unwrap_or_default();
    let mut tx = db.begin().await?;
    versions::clear_failure(&mut tx, def).await?;
    let detail = format!("after: {error}");
    audit::record(&mut tx, actor, AuditAction::Retried, def, &detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Makes `def` the version that serves reads, and the current live version its standby. Only a
/// caught-up, healthy standby can take over, and going forward also needs every item of the
/// readiness checklist green; both are checked again inside the transaction, after the live
/// row is locked, so a concurrent cutover is refused rather than applied twice. The flip is
/// audited with who did it and where both versions stood. Rolling back is the same flip the
/// other way, instant because the old version was kept current.
#[tracing::instrument(skip(db, store))]
pub async fn cut_over(
    db: &PortableDb,
    store: &EventStore,
    def: Definition,
    actor: &str,
) -> Result<String, ActionError> {
    let candidate = versions::load(db, def).await?;
    let live_version = versions::live(db, def.name())
        .await?
        .map(|(live, _)| live.version());
    // The projection's settings may allow a small lag ("caught up within N events"): under
    // steady appends a version is rarely at zero at the instant of the click.
    let allowed_lag = super::settings::load(db, def.name()).await?.max_lag_events;
    let (behind, _) = store.backlog(&candidate.checkpoint).await?;
    transition(
        &candidate.facts((behind - allowed_lag).max(0), live_version),
        OperatorAction::CutOver,
    )?;
    let mut tx = db.begin().await?;
    let previous = versions::demote_live(&mut tx, def.name(), def.version()).await?;
    // The candidate as it is now, under the lock: a concurrent cutover may have made it live.
    let row = versions::load_in(&mut tx, def).await?;
    let (behind, _) = store.backlog(&row.checkpoint).await?;
    transition(
        &row.facts((behind - allowed_lag).max(0), previous),
        OperatorAction::CutOver,
    )?;
    if previous.is_some_and(|p| p < def.version()) {
        let facts = super::readiness::gather_facts(db, &row, behind, previous).await?;
        if let Some(failing) = super::readiness::first_failing(&facts) {
            return Err(Refusal::NotReady {
                key: def.key(),
                item: failing.item.title(),
                reason: failing.reason,
            }
            .into());
        }
    }
    if !versions::promote(&mut tx, def).await? {
        return Err(Refusal::ChangedMeanwhile(def.key()).into());
    }
    let action = cut_over_audit_action(previous.is_some_and(|p| p > def.version()));
    let mut positions = Vec::new();
    for version in previous.into_iter().chain([def.version()]) {
        if let Some(d) = Definition::find(def.name(), version) {
            let row: VersionRow = versions::load(db, d).await?;
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
    audit::record(&mut tx, actor, action, def, &detail).await?;
    tx.commit().await?;
    Ok(detail)
}

/// Stops maintaining a version that no longer serves reads and drops its tables. It can be
/// brought back by rebuilding it.
#[tracing::instrument(skip(db))]
pub async fn retire(db: &PortableDb, def: Definition, actor: &str) -> Result<(), ActionError> {
    let row = versions::load(db, def).await?;
    transition(&row.facts(0, None), OperatorAction::Retire)?;
    let mut tx = db.begin().await?;
    // Only the tables read above are dropped: if a rebuild started or finished meanwhile, the
    // row no longer matches and the retire is refused.
    if !versions::retire(&mut tx, &row).await? {
        return Err(Refusal::ChangedMeanwhile(def.key()).into());
    }
    let tables = [
        Some(&row.physical_table),
        row.rebuild.as_ref().map(|r| &r.table),
    ];
    for table in tables.into_iter().flatten() {
        def.drop_table(&mut tx, table).await?;
    }
    let detail = format!("dropped {}", row.physical_table);
    audit::record(&mut tx, actor, AuditAction::Retired, def, &detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Accepts the differences the latest comparison of `def` with the live version found.
#[tracing::instrument(skip(db))]
pub async fn acknowledge_differences(
    db: &PortableDb,
    def: Definition,
    actor: &str,
) -> Result<String, ActionError> {
    // Differences of a version still (re)building say nothing about the finished table.
    super::lifecycle::may_compare(&versions::load(db, def).await?.facts(0, None))?;
    let live = versions::live(db, def.name())
        .await?
        .ok_or_else(|| Refusal::ChangedMeanwhile(def.key()))?;
    let latest = comparisons::latest(db, def.name(), def.version(), live.0.version())
        .await?
        .ok_or_else(|| Refusal::NotReady {
            key: def.key(),
            item: "Compared with live",
            reason: "compare it with the live version first".into(),
        })?;
    let mut tx = db.begin().await?;
    if !comparisons::acknowledge(&mut tx, latest.id, actor).await? {
        return Err(Refusal::ChangedMeanwhile(def.key()).into());
    }
    let detail = format!(
        "accepted {} differing rows, {} only live, {} only candidate against {}",
        latest.differing,
        latest.only_live,
        latest.only_candidate,
        live.0.key()
    );
    audit::record(&mut tx, actor, AuditAction::Acknowledged, def, &detail).await?;
    tx.commit().await?;
    Ok(format!("Differences of {} accepted", def.key()))
}

/// Goes on past the event that made `def` fail: the event is recorded with the reason and
/// left out of this version from now on (also by its rebuilds); the failure is cleared.
#[tracing::instrument(skip(db, reason))]
pub async fn skip_event(
    db: &PortableDb,
    def: Definition,
    actor: &str,
    reason: &str,
) -> Result<String, ActionError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().any(char::is_control) || reason.chars().count() > 500 {
        return Err(Refusal::ReasonRequired(def.key()).into());
    }
    let row = versions::load(db, def).await?;
    transition(&row.facts(0, None), OperatorAction::Skip)?;
    let failure = row.failure.ok_or_else(|| Refusal::NotFailed(def.key()))?;
    let seq = failure
        .event_seq
        .ok_or_else(|| Refusal::NothingToSkip(def.key()))?;
    let mut tx = db.begin().await?;
    skips::record(
        &mut tx,
        def,
        skips::NewSkip {
            seq,
            stream_id: failure.stream_id.as_deref().unwrap_or_default(),
            event_type: failure.event_type.as_deref().unwrap_or_default(),
            error: &failure.error,
            reason,
            actor,
        },
    )
    .await?;
    versions::clear_failure(&mut tx, def).await?;
    let detail = format!(
        "event #{seq} ({} on stream {}): {reason}",
        failure.event_type.unwrap_or_default(),
        failure.stream_id.unwrap_or_default()
    );
    audit::record(&mut tx, actor, AuditAction::EventSkipped, def, &detail).await?;
    tx.commit().await?;
    Ok(format!("{} goes on past event #{seq}", def.key()))
}

pub async fn acknowledge_skips(
    db: &PortableDb,
    def: Definition,
    actor: &str,
) -> Result<String, ActionError> {
    let mut tx = db.begin().await?;
    let n = skips::acknowledge(&mut tx, def, actor).await?;
    audit::record(
        &mut tx,
        actor,
        AuditAction::Acknowledged,
        def,
        &format!("{n} skipped events"),
    )
    .await?;
    tx.commit().await?;
    Ok(format!("{n} skipped events of {} acknowledged", def.key()))
}

pub async fn save_settings(
    db: &PortableDb,
    name: &str,
    new: &Settings,
    actor: &str,
) -> Result<String, ActionError> {
    let mut tx = db.begin().await?;
    settings::save(&mut tx, name, new, actor).await?;
    let detail = format!(
        "automatic rollback {}, caught up within {} events, comparisons valid {} min",
        if new.auto_rollback { "on" } else { "off" },
        new.max_lag_events,
        new.comparison_valid_minutes
    );
    audit::record_for_projection(&mut tx, actor, AuditAction::SettingsChanged, name, &detail)
        .await?;
    tx.commit().await?;
    Ok(format!("Settings of {name} saved"))
}

pub async fn acknowledge_alert(
    db: &PortableDb,
    name: &str,
    id: i64,
    actor: &str,
) -> Result<String, ActionError> {
    let mut tx = db.begin().await?;
    if !alerts::acknowledge(&mut tx, name, id, actor).await? {
        return Err(Refusal::ChangedMeanwhile(name.to_string()).into());
    }
    audit::record_for_projection(&mut tx, actor, AuditAction::Acknowledged, name, "alert").await?;
    tx.commit().await?;
    Ok("Alert acknowledged".into())
}
