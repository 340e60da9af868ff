//! Projection status and operator actions, plus the daily counts read model.

use crate::error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
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
    /// building, standby, live or retired.
    pub state: String,
    pub error: Option<String>,
    /// The event that made it fail: "#seq Type on stream id".
    pub error_event: Option<String>,
    pub checkpoint_seq: i64,
    pub head_seq: i64,
    pub lag_events: i64,
    pub lag_seconds: f64,
    pub events_per_sec: f64,
    pub events_applied: i64,
    pub owner_node: Option<String>,
    pub rebuild: Option<RebuildStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeStatus {
    pub name: String,
    pub capabilities: String,
    pub started_at: DateTime<Utc>,
    pub heartbeat_age_seconds: f64,
}

impl NodeStatus {
    /// A node that has not beaten for 10 seconds is taken for dead.
    pub fn alive(&self) -> bool {
        self.heartbeat_age_seconds < 10.0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyRow {
    pub day: String,
    pub scheduled: i64,
    pub picked_up: i64,
    pub delivered: i64,
    pub cancelled: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyView {
    pub served_by: String,
    pub days: Vec<DailyRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffSample {
    pub shipment_id: String,
    pub field: String,
    pub live: Option<String>,
    pub candidate: Option<String>,
}

/// A candidate board version compared with the live one, before a cutover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardComparison {
    pub live: String,
    pub candidate: String,
    pub live_rows: i64,
    pub candidate_rows: i64,
    pub only_live: i64,
    pub only_live_samples: Vec<String>,
    pub only_candidate: i64,
    pub only_candidate_samples: Vec<String>,
    pub differing: i64,
    pub samples: Vec<DiffSample>,
    pub identical: bool,
}

#[server(endpoint = "projections/status")]
pub async fn get_projections_overview() -> Result<ProjectionsOverview, AppError> {
    let state = super::ssr::state()?;
    ssr::overview(&state.store, &state.projections).await
}

#[server(endpoint = "projections/daily")]
pub async fn get_daily_shipments() -> Result<DailyView, AppError> {
    let state = super::ssr::state()?;
    let (def, days) = crate::projections::queries::daily(&state.projections, 31)
        .await
        .map_err(ssr::query_error)?;
    Ok(DailyView {
        served_by: def.key(),
        days: days
            .into_iter()
            .map(|(day, c)| DailyRow {
                day,
                scheduled: c.scheduled,
                picked_up: c.picked_up,
                delivered: c.delivered,
                cancelled: c.cancelled,
            })
            .collect(),
    })
}

#[server(endpoint = "projections/rebuild")]
pub async fn rebuild_projection(key: String) -> Result<String, AppError> {
    let state = super::ssr::state()?;
    let def = ssr::definition(&key)?;
    let (_, total) = state.store.head().await.map_err(super::ssr::store_error)?;
    crate::projections::catalog::request_rebuild(&state.projections, def, ssr::ACTOR, total)
        .await
        .map_err(ssr::action_error)?;
    Ok(format!("Rebuild of {key} started"))
}

#[server(endpoint = "projections/retry")]
pub async fn retry_projection(key: String) -> Result<String, AppError> {
    let state = super::ssr::state()?;
    let def = ssr::definition(&key)?;
    crate::projections::catalog::retry(&state.projections, def, ssr::ACTOR)
        .await
        .map_err(ssr::action_error)?;
    Ok(format!("{key} resumes from its checkpoint"))
}

/// Every board version that could be cut over to (or rolled back to), compared with the live one.
#[server(endpoint = "projections/compare")]
pub async fn compare_board_versions() -> Result<Vec<BoardComparison>, AppError> {
    use crate::projections::catalog::{self, VersionState};
    use crate::projections::queries::board_diff;
    let state = super::ssr::state()?;
    let db = &state.projections;
    let versions = catalog::load_all(db).await.map_err(ssr::database_error)?;
    let board: Vec<_> = versions
        .iter()
        .filter(|v| v.def.name() == "shipment_board")
        .collect();
    let Some(live) = board.iter().find(|v| v.state == VersionState::Live) else {
        return Ok(Vec::new());
    };
    let mut comparisons = Vec::new();
    for candidate in board
        .iter()
        .filter(|v| matches!(v.state, VersionState::Standby | VersionState::Building))
    {
        let d = board_diff(db, live.def, candidate.def)
            .await
            .map_err(ssr::query_error)?;
        comparisons.push(BoardComparison {
            live: d.left.key(),
            candidate: d.right.key(),
            live_rows: d.left_rows,
            candidate_rows: d.right_rows,
            only_live: d.only_left,
            only_live_samples: d.only_left_samples.clone(),
            only_candidate: d.only_right,
            only_candidate_samples: d.only_right_samples.clone(),
            differing: d.differing,
            identical: d.identical(),
            samples: d
                .samples
                .into_iter()
                .map(|f| DiffSample {
                    shipment_id: f.shipment_id,
                    field: f.field.to_string(),
                    live: f.left,
                    candidate: f.right,
                })
                .collect(),
        });
    }
    Ok(comparisons)
}

/// Makes a standby version live (or the previous one again: a rollback).
#[server(endpoint = "projections/cut-over")]
pub async fn cut_over_projection(key: String) -> Result<String, AppError> {
    let state = super::ssr::state()?;
    let def = ssr::definition(&key)?;
    crate::projections::catalog::cut_over(&state.projections, &state.store, def, ssr::ACTOR)
        .await
        .map_err(ssr::action_error)
}

/// Stops maintaining a version that does not serve reads, and drops its table.
#[server(endpoint = "projections/retire")]
pub async fn retire_projection(key: String) -> Result<String, AppError> {
    let state = super::ssr::state()?;
    let def = ssr::definition(&key)?;
    crate::projections::catalog::retire(&state.projections, def, ssr::ACTOR)
        .await
        .map_err(ssr::action_error)?;
    Ok(format!("{key} is retired and its table dropped"))
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::projections::catalog::{self, ActionError};
    use crate::projections::db::ProjectionDb;
    use crate::projections::queries::QueryError;
    use crate::projections::Definition;
    use crate::store::EventStore;

    /// Until sign-in exists, operator actions are recorded under this name.
    pub const ACTOR: &str = "default-admin";

    pub fn definition(key: &str) -> Result<Definition, AppError> {
        Definition::parse(key).ok_or_else(|| AppError::NotFound {
            what: format!("projection version {key}"),
        })
    }

    pub fn database_error(e: sqlx::Error) -> AppError {
        crate::api::ssr::store_error(crate::store::StoreError::Database(e))
    }

    pub fn query_error(e: QueryError) -> AppError {
        match e {
            QueryError::NoLiveVersion(name) => AppError::NotFound {
                what: format!("a live version of {name}"),
            },
            QueryError::BadCursor => AppError::validation(crate::domain::FieldError::new(
                "after",
                "is not a board position",
            )),
            QueryError::Database(e) => database_error(e),
        }
    }

    pub fn action_error(e: ActionError) -> AppError {
        match e {
            ActionError::Refused(message) => AppError::Rejected {
                message,
                status: None,
            },
            ActionError::Database(e) => database_error(e),
            ActionError::Store(e) => crate::api::ssr::store_error(e),
        }
    }

    pub async fn overview(
        store: &EventStore,
        db: &ProjectionDb,
    ) -> Result<ProjectionsOverview, AppError> {
        let (head_seq, total_events) = store.head().await.map_err(crate::api::ssr::store_error)?;
        let now = Utc::now();
        let mut versions = Vec::new();
        for row in catalog::load_all(db).await.map_err(database_error)? {
            let (lag_events, oldest) = store
                .backlog(row.checkpoint)
                .await
                .map_err(crate::api::ssr::store_error)?;
            let rebuild = row.rebuild.as_ref().map(|r| {
                let elapsed = r
                    .started_at
                    .map(|t| (now - t).num_milliseconds() as f64 / 1000.0)
                    .unwrap_or(0.0);
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
            });
            versions.push(VersionStatus {
                key: row.def.key(),
                name: row.def.name().to_string(),
                version: row.def.version(),
                description: row.def.description().to_string(),
                state: row.state.as_str().to_string(),
                error: row.failure.as_ref().map(|f| f.error.clone()),
                error_event: row.failure.as_ref().and_then(|f| {
                    Some(format!(
                        "#{} {} on stream {}",
                        f.event_seq?,
                        f.event_type.clone()?,
                        f.stream_id.clone()?
                    ))
                }),
                checkpoint_seq: row.checkpoint.seq,
                head_seq,
                lag_events,
                lag_seconds: oldest
                    .map(|t| ((now - t).num_milliseconds() as f64 / 1000.0).max(0.0))
                    .unwrap_or(0.0),
                events_per_sec: row.rate_per_sec,
                events_applied: row.events_applied,
                owner_node: row.owner_node.clone(),
                rebuild,
            });
        }
        let nodes = catalog::nodes(db)
            .await
            .map_err(database_error)?
            .into_iter()
            .map(|n| NodeStatus {
                heartbeat_age_seconds: (now - n.heartbeat_at).num_milliseconds() as f64 / 1000.0,
                name: n.name,
                capabilities: n.capabilities,
                started_at: n.started_at,
            })
            .collect();
        let audit = catalog::recent_audit(db, 30)
            .await
            .map_err(database_error)?
            .into_iter()
            .map(|a| AuditView {
                at: a.at,
                actor: a.actor,
                action: a.action,
                projection: a.projection,
                detail: a.detail,
            })
            .collect();
        Ok(ProjectionsOverview {
            backend: store.backend_name().to_string(),
            head_seq,
            total_events,
            versions,
            nodes,
            audit,
        })
    }

    pub fn prometheus_text(overview: &ProjectionsOverview) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        type Gauge = (&'static str, &'static str, fn(&VersionStatus) -> f64);
        let metrics: [Gauge; 4] = [
            (
                "freightdesk_projection_lag_events",
                "Events in the log not yet applied",
                |v| v.lag_events as f64,
            ),
            (
                "freightdesk_projection_lag_seconds",
                "Age of the oldest event not yet applied",
                |v| v.lag_seconds,
            ),
            (
                "freightdesk_projection_events_per_second",
                "Events applied per second over the last minute",
                |v| v.events_per_sec,
            ),
            (
                "freightdesk_projection_failed",
                "1 when the version has failed and stopped",
                |v| f64::from(u8::from(v.error.is_some())),
            ),
        ];
        for (name, help, value) in metrics {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for v in &overview.versions {
                let _ = writeln!(
                    out,
                    "{name}{{projection=\"{}\",version=\"{}\",state=\"{}\"}} {}",
                    v.name,
                    v.version,
                    v.state,
                    value(v)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP freightdesk_events_total Events in the log\n# TYPE freightdesk_events_total gauge\nfreightdesk_events_total {}",
            overview.total_events
        );
        out
    }
}
