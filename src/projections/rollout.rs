//! What the rollout does on its own, beside the operators' actions: comparing the candidates
//! with the live version (recorded, so the readiness checklist knows how recent a comparison
//! is), and rolling back automatically when the live version fails.

use super::audit::{self, SYSTEM};
use super::diff::{board_diff, BoardDiff};
use super::lifecycle::{may_compare, transition, AuditAction, OperatorAction, VersionState};
use super::operator::ActionError;
use super::versions::{self, VersionRow};
use super::{alerts, comparisons, settings, Definition};
use crate::db::PortableDb;
use crate::store::EventStore;

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
    // Only caught-up versions: a half-built table differs from the live one for no reason
    // worth recording (and a comparison of it must not satisfy the checklist).
    for candidate in mine
        .iter()
        .filter(|v| v.state == VersionState::Standby && may_compare(&v.facts(0, None)).is_ok())
    {
        let d = board_diff(db, live.def, candidate.def).await?;
        comparisons::record(db, name, &d).await?;
        diffs.push(d);
    }
    Ok(diffs)
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
        let (behind, _) = store.backlog(&v.checkpoint).await?;
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
