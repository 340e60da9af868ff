//! Projection status and operator actions, plus the daily counts read model.

use crate::error::AppError;
pub use crate::projections::status::{ProjectionsOverview, RolloutStatus};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn;
use serde::{Deserialize, Serialize};

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

/// One sample of a version's lag and rate, `seconds_ago` before the answer was made (so the
/// browser's clock does not matter).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplePoint {
    pub seconds_ago: f64,
    pub lag_events: i64,
    pub events_per_sec: f64,
}

/// A version's samples of the last hour, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionSeries {
    pub key: String,
    pub points: Vec<SamplePoint>,
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
    let user = crate::auth::require_access(<GetProjectionsOverview as ServerFn>::PATH)?;
    let state = app_state()?;
    let mut overview = crate::projections::status::overview(&state.store, &state.db).await?;
    // What a holding session runs is for admins' eyes only.
    if !user.allows(Role::Admin) {
        overview.hold = overview.hold.map(crate::stall::HoldReport::without_queries);
    }
    Ok(overview)
}

/// How many calendar days the daily counts cover, today included.
pub const DAILY_DAYS: u32 = 30;

/// The last `DAILY_DAYS` calendar days (UTC), newest first, days without activity as zeros.
#[server(endpoint = "projections/daily")]
pub async fn get_daily_shipments(
    /// A position (from a command's answer) the counts must include; the `fd_seen` cookie
    /// counts too. Waits at most 2 s.
    #[server(default)]
    wait_for: String,
) -> Result<DailyView, AppError> {
    crate::auth::require_access(<GetDailyShipments as ServerFn>::PATH)?;
    let state = app_state()?;
    super::read_your_writes::catch_up(
        &state,
        crate::projections::definition::DAILY_SHIPMENTS,
        &wait_for,
    )
    .await?;
    let today = chrono::Utc::now().date_naive();
    let (def, days) =
        crate::projections::queries::daily_calendar(&state.db, today, DAILY_DAYS).await?;
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

/// Every version's lag and rate over the last hour, for the projections page's charts.
#[server(endpoint = "projections/samples")]
pub async fn get_projection_samples() -> Result<Vec<VersionSeries>, AppError> {
    use crate::projections::samples;
    crate::auth::require_access(<GetProjectionSamples as ServerFn>::PATH)?;
    let state = app_state()?;
    let now = chrono::Utc::now();
    let mut series = Vec::new();
    for row in crate::projections::versions::load_all(&state.db).await? {
        let points = samples::recent(&state.db, row.def, now - samples::WINDOW)
            .await?
            .into_iter()
            .map(|s| SamplePoint {
                seconds_ago: ((now - s.at).num_milliseconds() as f64 / 1000.0).max(0.0),
                lag_events: s.lag_events,
                events_per_sec: s.events_per_sec,
            })
            .collect();
        series.push(VersionSeries {
            key: row.def.key(),
            points,
        });
    }
    Ok(series)
}

#[server(endpoint = "projections/rebuild")]
pub async fn rebuild_projection(key: String) -> Result<String, AppError> {
    let actor = crate::auth::require_access(<RebuildProjection as ServerFn>::PATH)?.name;
    let state = app_state()?;
    let def = definition(&key)?;
    let (_, total) = state.store.head().await?;
    operator::request_rebuild(&state.db, def, &actor, total).await?;
    Ok(format!("Rebuild of {key} started"))
}

#[server(endpoint = "projections/retry")]
pub async fn retry_projection(key: String) -> Result<String, AppError> {
    let actor = crate::auth::require_access(<RetryProjection as ServerFn>::PATH)?.name;
    let state = app_state()?;
    let def = definition(&key)?;
    operator::retry(&state.db, def, &actor).await?;
    Ok(format!("{key} resumes from its checkpoint"))
}

/// Every board version that could be cut over to (or rolled back to), compared with the live
/// one. Each comparison is recorded: the readiness checklist needs a recent one.
#[server(endpoint = "projections/compare")]
pub async fn compare_board_versions() -> Result<Vec<BoardComparison>, AppError> {
    use crate::projections::definition::SHIPMENT_BOARD;
    crate::auth::require_access(<CompareBoardVersions as ServerFn>::PATH)?;
    let state = app_state()?;
    let diffs = rollout::compare_with_live(&state.db, SHIPMENT_BOARD).await?;
    Ok(diffs
        .into_iter()
        .map(|d| BoardComparison {
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
        })
        .collect())
}

/// The blue/green page of one projection: both versions, the readiness checklist, the
/// latest comparison, settings, skipped events, open alerts and its audit trail.
#[server(endpoint = "projections/rollout")]
pub async fn get_rollout(name: String) -> Result<RolloutStatus, AppError> {
    crate::auth::require_access(<GetRollout as ServerFn>::PATH)?;
    let state = app_state()?;
    crate::projections::status::rollout(&state.db, &state.store, name.trim())
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: format!("projection {name}"),
        })
}

/// Accepts the differences the latest comparison found between a candidate and the live one.
#[server(endpoint = "projections/accept-differences")]
pub async fn accept_differences(key: String) -> Result<String, AppError> {
    let actor = crate::auth::require_access(<AcceptDifferences as ServerFn>::PATH)?.name;
    let state = app_state()?;
    Ok(operator::acknowledge_differences(&state.db, definition(&key)?, &actor).await?)
}

/// Goes on past the event that made a version fail, with a typed reason.
#[server(endpoint = "projections/skip")]
pub async fn skip_poison_event(key: String, reason: String) -> Result<String, AppError> {
    let actor = crate::auth::require_access(<SkipPoisonEvent as ServerFn>::PATH)?.name;
    let state = app_state()?;
    Ok(operator::skip_event(&state.db, definition(&key)?, &actor, &reason).await?)
}

#[server(endpoint = "projections/acknowledge-skips")]
pub async fn acknowledge_skipped_events(key: String) -> Result<String, AppError> {
    let actor = crate::auth::require_access(<AcknowledgeSkippedEvents as ServerFn>::PATH)?.name;
    let state = app_state()?;
    Ok(operator::acknowledge_skips(&state.db, definition(&key)?, &actor).await?)
}

#[server(endpoint = "projections/acknowledge-alert")]
pub async fn acknowledge_alert(name: String, id: String) -> Result<String, AppError> {
    let actor = crate::auth::require_access(<AcknowledgeAlert as ServerFn>::PATH)?.name;
    let state = app_state()?;
    let id = id.trim().parse::<i64>().map_err(|_| AppError::BadRequest {
        message: "id must be a number".into(),
    })?;
    Ok(operator::acknowledge_alert(&state.db, name.trim(), id, &actor).await?)
}

/// Automatic rollback on or off, the allowed lag, how long a comparison counts.
#[server(endpoint = "projections/settings")]
pub async fn save_projection_settings(
    name: String,
    #[server(default)] auto_rollback: String,
    max_lag_events: String,
    comparison_valid_minutes: String,
) -> Result<String, AppError> {
    use crate::domain::FieldError;
    use crate::projections::settings::Settings;
    let actor = crate::auth::require_access(<SaveProjectionSettings as ServerFn>::PATH)?.name;
    let state = app_state()?;
    let number = |field: &str, text: &str, range: std::ops::RangeInclusive<i64>| {
        text.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    format!(
                        "must be a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
            })
    };
    let lag = number("max_lag_events", &max_lag_events, 0..=1_000_000);
    let minutes = number(
        "comparison_valid_minutes",
        &comparison_valid_minutes,
        1..=10_080,
    );
    let settings = match (lag, minutes) {
        (Ok(max_lag_events), Ok(comparison_valid_minutes)) => Settings {
            // A checkbox sends "on" when ticked and nothing when not.
            auto_rollback: matches!(auto_rollback.trim(), "on" | "true" | "1"),
            max_lag_events,
            comparison_valid_minutes,
        },
        (lag, minutes) => return Err(super::errors::invalid([lag.err(), minutes.err()])),
    };
    let name = name.trim();
    if !crate::projections::Definition::ALL
        .iter()
        .any(|d| d.name() == name)
    {
        return Err(AppError::NotFound {
            what: format!("projection {name}"),
        });
    }
    Ok(operator::save_settings(&state.db, name, &settings, &actor).await?)
}

/// Makes a standby version live (or the previous one again: a rollback).
#[server(endpoint = "projections/cut-over")]
pub async fn cut_over_projection(key: String) -> Result<String, AppError> {
    let actor = crate::auth::require_access(<CutOverProjection as ServerFn>::PATH)?.name;
    let state = app_state()?;
    let def = definition(&key)?;
    Ok(operator::cut_over(&state.db, &state.store, def, &actor).await?)
}

/// Stops maintaining a version that does not serve reads, and drops its table.
#[server(endpoint = "projections/retire")]
pub async fn retire_projection(key: String) -> Result<String, AppError> {
    let actor = crate::auth::require_access(<RetireProjection as ServerFn>::PATH)?.name;
    let state = app_state()?;
    let def = definition(&key)?;
    operator::retire(&state.db, def, &actor).await?;
    Ok(format!("{key} is retired and its table dropped"))
}

#[cfg(feature = "ssr")]
use {
    super::context::app_state,
    crate::auth::Role,
    crate::projections::{operator, rollout},
};

#[cfg(feature = "ssr")]
fn definition(key: &str) -> Result<crate::projections::Definition, AppError> {
    crate::projections::Definition::parse(key).ok_or_else(|| AppError::NotFound {
        what: format!("projection version {key}"),
    })
}
