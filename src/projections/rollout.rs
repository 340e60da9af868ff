//! The guided rollout around the operator actions: recorded comparisons and their
//! acknowledgement, the readiness facts, skipping a poison event, settings, alerts, the
//! automatic rollback, and the blue/green status of one projection.

use super::audit::{self, SYSTEM};
use super::diff::{board_diff, BoardDiff};
use super::lifecycle::{transition, AuditAction, OperatorAction, Refusal, VersionState};
use super::operator::ActionError;
use super::readiness::{checklist, ReadinessFacts};
use super::status::{version_status, ComparisonView, RolloutStatus, Settings};
use super::versions::{self, VersionRow};
use super::{alerts, comparisons, nodes, settings, skips, Definition};
use crate::db::PortableDb;
use crate::store::EventStore;
use chrono::Utc;

/// Compares every board version that could go live (or back) with the live one and records
/// each comparison, so the readiness checklist knows how recent it is.
#[tracing::instrument(skip(db))]
pub async fn compare_with_live(db: &PortableDb, name: &str) -> Result<Vec<BoardDiff>, ActionError> {
    if name != super::definition::SHIPMENT_BOARD {
        // Only board versions share columns to compare today.
        return Ok(Vec::new());
    }
    let all = versions::load_all(db).await?;
    let mine: Vec<&VersionRow> = all.iter().filter(|v| v.def.name() == name).collect();
    let Some(live) = mine.iter().find(|v| v.state == VersionState::Live) else {
        return Ok(Vec::new());
    };
    let mut diffs = Vec::new();
    for candidate in mine
        .iter()
        .filter(|v| matches!(v.state, VersionState::Standby | VersionState::Building))
    {
        let d = board_diff(db, live.def, candidate.def).await?;
        comparisons::record(db, name, &d).await?;
        diffs.push(d);
    }
    Ok(diffs)
}

/// What the checklist decides on for `row`, going live in place of `live_version`.
pub async fn readiness(
    db: &PortableDb,
    row: &VersionRow,
    behind: i64,
    live_version: Option<i64>,
) -> Result<ReadinessFacts, sqlx::Error> {
    let now = Utc::now();
    let name = row.def.name();
    let settings = settings::load(db, name).await?;
    let comparison = match live_version {
        Some(live) => comparisons::latest(db, name, row.def.version(), live).await?,
        None => None,
    };
    let owner_heartbeat_age = match &row.owner_node {
        Some(node) => nodes::heartbeat_age(db, node, now).await?,
        None => None,
    };
    Ok(ReadinessFacts {
        behind,
        max_lag_events: settings.max_lag_events,
        failure: row.failure.as_ref().map(|f| f.error.clone()),
        rebuilding: row.rebuild.is_some(),
        unacknowledged_skips: skips::unacknowledged(db, row.def).await?,
        comparison: comparison.map(|c| c.facts(now)),
        comparison_valid_minutes: settings.comparison_valid_minutes,
        owner_heartbeat_age,
    })
}

/// Accepts the differences the latest comparison of `def` with the live version found.
#[tracing::instrument(skip(db))]
pub async fn acknowledge_differences(
    db: &PortableDb,
    def: Definition,
    actor: &str,
) -> Result<String, ActionError> {
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

/// The live version `failed` has failed: if the setting allows it and the previous version is
/// on standby, caught up and healthy, make that one live again at once, audited as the
/// system, with an alert for the people. Returns what it did.
#[tracing::instrument(skip(db, store))]
pub async fn roll_back_automatically(
    db: &PortableDb,
    store: &EventStore,
    failed: Definition,
) -> Result<Option<String>, ActionError> {
    let name = failed.name();
    let projection_settings = settings::load(db, name).await?;
    if !projection_settings.auto_rollback {
        return Ok(None);
    }
    let all = versions::load_all(db).await?;
    let Some(failed_row) = all.iter().find(|v| v.def == failed) else {
        return Ok(None);
    };
    if failed_row.state != VersionState::Live {
        return Ok(None);
    }
    // The newest healthy, caught-up standby of the same projection.
    let allowed_lag = projection_settings.max_lag_events;
    let mut fallback = None;
    for v in all
        .iter()
        .rev()
        .filter(|v| v.def.name() == name && v.def != failed)
    {
        let (behind, _) = store.backlog(v.checkpoint).await?;
        let facts = v.facts((behind - allowed_lag).max(0), Some(failed.version()));
        if transition(&facts, OperatorAction::CutOver).is_ok() {
            fallback = Some(v.def);
            break;
        }
    }
    let Some(target) = fallback else {
        return Ok(None);
    };
    let mut tx = db.begin().await?;
    let previous = versions::demote_live(&mut tx, name, target.version()).await?;
    if previous != Some(failed.version()) || !versions::promote(&mut tx, target).await? {
        return Ok(None); // someone acted meanwhile
    }
    let failure = failed_row
        .failure
        .as_ref()
        .map(|f| f.error.clone())
        .unwrap_or_default();
    let target_row = versions::load(db, target).await?;
    let detail = format!(
        "automatic: {} failed ({failure}) at #{}; {} is live again at #{}",
        failed.key(),
        failed_row.checkpoint.seq,
        target.key(),
        target_row.checkpoint.seq
    );
    audit::record(&mut tx, SYSTEM, AuditAction::RolledBack, target, &detail).await?;
    alerts::raise(&mut tx, name, alerts::AUTO_ROLLBACK, &detail).await?;
    tx.commit().await?;
    tracing::warn!("{detail}");
    Ok(Some(detail))
}

/// Blue (live) and green (the newest other maintained version) of one projection, with the
/// checklist, settings, skipped events, open alerts and the projection's audit trail.
pub async fn status(
    db: &PortableDb,
    store: &EventStore,
    name: &str,
) -> Result<Option<RolloutStatus>, ActionError> {
    let now = Utc::now();
    let (head_seq, _) = store.head().await?;
    let all: Vec<VersionRow> = versions::load_all(db)
        .await?
        .into_iter()
        .filter(|v| v.def.name() == name)
        .collect();
    if all.is_empty() {
        return Ok(None);
    }
    let blue_row = all.iter().find(|v| v.state == VersionState::Live).cloned();
    let green_row = all
        .iter()
        .rev()
        .find(|v| v.state != VersionState::Live && v.state != VersionState::Retired)
        .cloned();
    let live_version = blue_row.as_ref().map(|b| b.def.version());
    let settings = settings::load(db, name).await?;
    let mut checklist_items = Vec::new();
    let mut comparison = None;
    let mut skipped = Vec::new();
    if let Some(green) = &green_row {
        let (behind, _) = store.backlog(green.checkpoint).await?;
        if live_version.is_some_and(|l| l < green.def.version()) {
            let facts = readiness(db, green, behind, live_version).await?;
            checklist_items = checklist(&facts);
        }
        if let Some(live) = live_version {
            comparison = comparisons::latest(db, name, green.def.version(), live)
                .await?
                .map(|c| ComparisonView {
                    id: c.id,
                    at: c.at,
                    live: format!("{name}@{live}"),
                    candidate: green.def.key(),
                    identical: c.identical,
                    differing: c.differing,
                    only_live: c.only_live,
                    only_candidate: c.only_candidate,
                    acknowledged_by: c.acknowledged_by,
                });
        }
        skipped = skips::list(db, green.def).await?;
    }
    if let Some(blue) = &blue_row {
        skipped.extend(skips::list(db, blue.def).await?);
    }
    let audit = audit::recent_for(db, name, 30)
        .await?
        .into_iter()
        .map(super::status::AuditView::from)
        .collect();
    let rows_of = |row: &Option<VersionRow>| {
        let table = row.as_ref().map(|r| r.physical_table.clone());
        async move {
            match table {
                Some(table) => versions::row_count(db, &table).await.ok(),
                None => None,
            }
        }
    };
    let (blue_rows, green_rows) = (rows_of(&blue_row).await, rows_of(&green_row).await);
    let status_of = |row: Option<VersionRow>| async move {
        match row {
            Some(r) => Ok::<_, ActionError>(Some(version_status(store, r, head_seq, now).await?)),
            None => Ok(None),
        }
    };
    Ok(Some(RolloutStatus {
        name: name.to_string(),
        blue: status_of(blue_row).await?,
        green: status_of(green_row).await?,
        checklist: checklist_items,
        comparison,
        settings,
        skipped,
        alerts: alerts::open(db, name).await?,
        audit,
        head_seq,
        taken_at: now,
        blue_rows,
        green_rows,
    }))
}
