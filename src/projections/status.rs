//! What operators see about projections: every version with its lag, rate, rebuild progress
//! and ETA, the nodes, and the audit trail. The types are shared with the browser; the
//! computation runs on the server.

use super::alerts::Alert;
use super::comparisons::ComparisonView;
use super::lifecycle::{AuditAction, VersionFacts, VersionState};
use super::settings::Settings;
use super::skips::SkippedEvent;
use crate::stall::HoldReport;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RebuildStatus {
    pub done: i64,
    pub total: i64,
    pub events_per_sec: f64,
    pub eta_seconds: Option<f64>,
    pub started_at: Option<DateTime<Utc>>,
}

impl RebuildStatus {
    pub fn percent(&self) -> f64 {
        if self.total <= 0 {
            return 100.0;
        }
        (self.done as f64 / self.total as f64 * 100.0).min(100.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionStatus {
    pub key: String,
    pub name: String,
    pub version: i64,
    pub description: String,
    pub state: VersionState,
    pub error: Option<String>,
    /// The event that made it fail: "#seq Type on stream id".
    pub error_event: Option<String>,
    pub error_event_seq: Option<i64>,
    pub checkpoint_seq: i64,
    pub head_seq: i64,
    pub lag_events: i64,
    pub lag_seconds: f64,
    pub events_per_sec: f64,
    pub events_applied: i64,
    pub owner_node: Option<String>,
    pub rebuild: Option<RebuildStatus>,
}

/// A node that has not sent a heartbeat for this long is taken for dead.
pub const NODE_ALIVE_WITHIN_SECONDS: f64 = 10.0;

impl VersionStatus {
    /// How far a (re)build has come, in percent: a rebuild counts its own events; a building
    /// version catches up on the log itself. None when nothing is being built.
    pub fn build_percent(&self) -> Option<f64> {
        match (&self.rebuild, self.state) {
            (Some(r), _) => Some(r.percent()),
            (None, VersionState::Building) if self.head_seq > 0 => {
                Some((self.checkpoint_seq as f64 / self.head_seq as f64 * 100.0).min(100.0))
            }
            (None, VersionState::Building) => Some(0.0),
            _ => None,
        }
    }

    /// The state in one phrase ("live", "rebuilding 42%", "failed (standby)").
    pub fn state_phrase(&self) -> String {
        super::lifecycle::state_phrase(self.state, self.error.is_some(), self.build_percent())
    }

    /// A retired version is not maintained: it has no lag, rate or node to show.
    pub fn is_retired(&self) -> bool {
        self.state == VersionState::Retired
    }

    /// "caught up", or how many events (and how long) it is behind; empty once retired.
    pub fn lag_phrase(&self) -> String {
        if self.is_retired() {
            String::new()
        } else if self.lag_events == 0 {
            "caught up".to_string()
        } else {
            format!(
                "{} event{} · {}",
                self.lag_events,
                if self.lag_events == 1 { "" } else { "s" },
                crate::format::human_duration(self.lag_seconds as i64)
            )
        }
    }

    /// What the lifecycle decides on, given the live version of its projection and the lag
    /// the projection's settings still count as caught up.
    pub fn facts(&self, live_version: Option<i64>, allowed_lag: i64) -> VersionFacts {
        VersionFacts {
            key: self.key.clone(),
            state: self.state,
            failure: self.error.clone(),
            failed_event: self.error_event_seq,
            rebuild: self.rebuild.as_ref().map(|r| (r.done, r.total)),
            behind: (self.lag_events - allowed_lag).max(0),
            older_than_live: live_version.is_some_and(|l| l > self.version),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeStatus {
    pub name: String,
    pub capabilities: String,
    pub started_at: DateTime<Utc>,
    pub heartbeat_age_seconds: f64,
}

impl NodeStatus {
    pub fn alive(&self) -> bool {
        self.heartbeat_age_seconds < NODE_ALIVE_WITHIN_SECONDS
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: AuditAction,
    pub projection: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectionsOverview {
    pub backend: String,
    pub head_seq: i64,
    pub total_events: i64,
    pub versions: Vec<VersionStatus>,
    pub nodes: Vec<NodeStatus>,
    pub audit: Vec<AuditView>,
    /// What holds the projections back, on PostgreSQL (SQLite cannot be held back: it runs one
    /// writer at a time).
    pub hold: Option<HoldReport>,
    /// When the overview was taken, so ages read the same in every time zone and renderer.
    pub taken_at: DateTime<Utc>,
}

/// Everything the blue/green page of one projection shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutStatus {
    pub name: String,
    /// The live version.
    pub blue: Option<VersionStatus>,
    /// The newest version that is neither live nor retired: the candidate, or (when older
    /// than blue) the version a rollback goes back to.
    pub green: Option<VersionStatus>,
    /// The readiness checklist for green (empty when green is the rollback target).
    pub checklist: Vec<crate::projections::readiness::Check>,
    pub comparison: Option<ComparisonView>,
    pub settings: Settings,
    pub skipped: Vec<SkippedEvent>,
    pub alerts: Vec<Alert>,
    pub audit: Vec<AuditView>,
    pub head_seq: i64,
    pub taken_at: DateTime<Utc>,
    /// Rows in blue's and green's tables (none when a table could not be counted, e.g. it was
    /// just swapped by a rebuild).
    pub blue_rows: Option<i64>,
    pub green_rows: Option<i64>,
}

impl RolloutStatus {
    /// Green is older than blue: the page offers a rollback, not a cutover.
    pub fn rollback_window(&self) -> bool {
        matches!((&self.blue, &self.green), (Some(b), Some(g)) if g.version < b.version)
    }

    pub fn ready(&self) -> bool {
        !self.checklist.is_empty() && self.checklist.iter().all(|c| c.ok)
    }

    /// The lifecycle facts of one of the two versions shown; it may lag by as much as the
    /// settings allow (the checklist's "caught up").
    pub fn facts(&self, v: &VersionStatus) -> VersionFacts {
        let live = self.blue.as_ref().map(|b| b.version);
        v.facts(live, self.settings.max_lag_events)
    }
}

/// Projections held back for longer than this get a banner: shorter holds are ordinary
/// appends in flight.
pub const HELD_BACK_BANNER_AFTER_SECONDS: f64 = 5.0;

impl ProjectionsOverview {
    /// The hold worth telling an operator about: one that has lasted past the threshold.
    pub fn long_hold(&self) -> Option<&HoldReport> {
        self.hold
            .as_ref()
            .filter(|h| h.is_held_back() && h.held_for_seconds() >= HELD_BACK_BANNER_AFTER_SECONDS)
    }

    /// The live version of a projection, if one is.
    pub fn live_version(&self, name: &str) -> Option<i64> {
        self.versions
            .iter()
            .find(|v| v.name == name && v.state == VersionState::Live)
            .map(|v| v.version)
    }

    /// What the lifecycle decides on for one of the versions shown.
    pub fn facts(&self, v: &VersionStatus) -> VersionFacts {
        v.facts(self.live_version(&v.name), 0)
    }
}

#[cfg(feature = "ssr")]
pub use compute::{overview, rollout, version_status};

#[cfg(feature = "ssr")]
mod compute {
    use super::*;
    use crate::db::PortableDb;
    use crate::projections::readiness::{checklist, gather_facts};
    use crate::projections::versions::{Rebuild, VersionRow};
    use crate::projections::{alerts, audit, comparisons, nodes, settings, skips, versions};
    use crate::store::{EventStore, StoreError};

    #[derive(Debug, thiserror::Error)]
    pub enum OverviewError {
        #[error(transparent)]
        Store(#[from] StoreError),
        #[error(transparent)]
        Database(#[from] sqlx::Error),
    }

    fn seconds_between(earlier: DateTime<Utc>, later: DateTime<Utc>) -> f64 {
        (later - earlier).num_milliseconds() as f64 / 1000.0
    }

    /// Progress of a rebuild: the rate since it started and the time left at that rate.
    fn rebuild_status(r: &Rebuild, now: DateTime<Utc>) -> RebuildStatus {
        let elapsed = r.started_at.map_or(0.0, |t| seconds_between(t, now));
        let events_per_sec = if elapsed > 0.0 {
            r.done as f64 / elapsed
        } else {
            0.0
        };
        let remaining = (r.total - r.done).max(0) as f64;
        RebuildStatus {
            done: r.done,
            total: r.total.max(r.done),
            events_per_sec,
            eta_seconds: (events_per_sec > 0.0).then(|| remaining / events_per_sec),
            started_at: r.started_at,
        }
    }

    pub async fn version_status(
        store: &EventStore,
        row: VersionRow,
        head_seq: i64,
        now: DateTime<Utc>,
    ) -> Result<VersionStatus, StoreError> {
        let (lag_events, oldest) = store.backlog(&row.checkpoint).await?;
        let error_event = row.failure.as_ref().and_then(|f| {
            Some(format!(
                "#{} {} on stream {}",
                f.event_seq?,
                f.event_type.clone()?,
                f.stream_id.clone()?
            ))
        });
        Ok(VersionStatus {
            key: row.def.key(),
            name: row.def.name().to_string(),
            version: row.def.version(),
            description: row.def.description().to_string(),
            state: row.state,
            error_event_seq: row.failure.as_ref().and_then(|f| f.event_seq),
            error: row.failure.map(|f| f.error),
            error_event,
            checkpoint_seq: row.checkpoint.seq,
            head_seq,
            lag_events,
            lag_seconds: oldest.map_or(0.0, |t| seconds_between(t, now).max(0.0)),
            events_per_sec: row.rate_per_sec,
            events_applied: row.events_applied,
            owner_node: row.owner_node,
            rebuild: row.rebuild.as_ref().map(|r| rebuild_status(r, now)),
        })
    }

    impl From<audit::AuditEntry> for AuditView {
        fn from(a: audit::AuditEntry) -> Self {
            AuditView {
                at: a.at,
                actor: a.actor,
                action: a.action,
                projection: a.projection,
                detail: a.detail,
            }
        }
    }

    pub async fn overview(
        store: &EventStore,
        db: &PortableDb,
    ) -> Result<ProjectionsOverview, OverviewError> {
        let (head_seq, total_events) = store.head().await?;
        let now = Utc::now();
        let mut statuses = Vec::new();
        for row in versions::load_all(db).await? {
            statuses.push(version_status(store, row, head_seq, now).await?);
        }
        let nodes = nodes::list(db)
            .await?
            .into_iter()
            .map(|n| NodeStatus {
                heartbeat_age_seconds: seconds_between(n.heartbeat_at, now),
                name: n.name,
                capabilities: n.capabilities,
                started_at: n.started_at,
            })
            .collect();
        let hold = store.diagnose_hold().await?;
        let audit = audit::recent(db, 30)
            .await?
            .into_iter()
            .map(AuditView::from)
            .collect();
        Ok(ProjectionsOverview {
            backend: store.dialect().as_str().to_string(),
            head_seq,
            total_events,
            versions: statuses,
            nodes,
            audit,
            hold,
            taken_at: now,
        })
    }

    /// Blue (live) and green (the newest other maintained version) of one projection, with the
    /// checklist, settings, skipped events, open alerts and the projection's audit trail.
    pub async fn rollout(
        db: &PortableDb,
        store: &EventStore,
        name: &str,
    ) -> Result<Option<RolloutStatus>, OverviewError> {
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
            let (behind, _) = store.backlog(&green.checkpoint).await?;
            if live_version.is_some_and(|l| l < green.def.version()) {
                let facts = gather_facts(db, green, behind, live_version).await?;
                checklist_items = checklist(&facts);
            }
            // No comparison is shown (nor offered for acceptance) before green has caught up.
            let comparable = crate::projections::lifecycle::may_compare(&green.facts(0, None));
            if let (Some(live), Ok(())) = (live_version, comparable) {
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
            .map(AuditView::from)
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
                Some(r) => {
                    Ok::<_, OverviewError>(Some(version_status(store, r, head_seq, now).await?))
                }
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
}

#[cfg(feature = "ssr")]
pub use compute::OverviewError;
