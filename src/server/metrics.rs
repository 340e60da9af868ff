//! `/metrics`: Prometheus text for lag, rate and failures per projection version, and lag and
//! delivery counts per webhook subscription.

use crate::projections::status::{overview, ProjectionsOverview, VersionStatus};
use crate::state::AppState;
use crate::subscriptions::SubscriptionSummary;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write;

pub async fn metrics(State(state): State<AppState>) -> Response {
    match render(&state).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the database");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

async fn render(state: &AppState) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let overview = overview(&state.store, &state.db).await?;
    let skipped = crate::projections::skips::counts(&state.db).await?;
    let subscriptions = crate::subscriptions::operations::list(&state.db, &state.store).await?;
    Ok(prometheus_text(&overview)
        + &skipped_text(&overview, &skipped)
        + &subscriptions_text(&subscriptions))
}

type SubscriptionGauge = (&'static str, &'static str, fn(&SubscriptionSummary) -> i64);

const SUBSCRIPTION_GAUGES: [SubscriptionGauge; 3] = [
    (
        "freightdesk_subscription_lag_events",
        "Events in the log the subscription has not looked at yet",
        |s| s.lag_events,
    ),
    (
        "freightdesk_subscription_pending_deliveries",
        "Deliveries waiting for their first attempt or a retry",
        |s| s.pending,
    ),
    (
        "freightdesk_subscription_dead_letters",
        "Deliveries that failed every attempt and wait for a person",
        |s| s.dead,
    ),
];

/// Subscription names hold only letters, digits, spaces, '-', '_' and '.', so they need no
/// escaping as label values.
fn subscriptions_text(subscriptions: &[SubscriptionSummary]) -> String {
    let mut out = String::new();
    for (name, help, value) in SUBSCRIPTION_GAUGES {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for s in subscriptions {
            let _ = writeln!(
                out,
                "{name}{{subscription=\"{}\",state=\"{}\"}} {}",
                s.name,
                s.state.as_str(),
                value(s)
            );
        }
    }
    out
}

type Gauge = (&'static str, &'static str, fn(&VersionStatus) -> f64);

const VERSION_GAUGES: [Gauge; 4] = [
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

pub fn prometheus_text(overview: &ProjectionsOverview) -> String {
    let mut out = String::new();
    for (name, help, value) in VERSION_GAUGES {
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
    if let Some(hold) = &overview.hold {
        // Every maintained version reads up to the same frontier, so a hold holds them all.
        let maintained: Vec<(String, i64)> = overview
            .versions
            .iter()
            .filter(|v| v.state.is_maintained())
            .map(|v| (v.name.clone(), v.version))
            .collect();
        out.push_str(&crate::stall::prometheus_lines(hold, &maintained));
    }
    let _ = writeln!(
        out,
        "# HELP freightdesk_events_total Events in the log\n# TYPE freightdesk_events_total gauge\nfreightdesk_events_total {}",
        overview.total_events
    );
    out
}

/// Events an admin skipped, per version (0 for versions without any), so an alert can fire.
fn skipped_text(overview: &ProjectionsOverview, skipped: &[(String, i64, i64)]) -> String {
    let name = "freightdesk_projection_skipped_events";
    let mut out =
        format!("# HELP {name} Events skipped by an admin for this version\n# TYPE {name} gauge\n");
    for v in &overview.versions {
        let n = skipped
            .iter()
            .find(|(p, version, _)| *p == v.name && *version == v.version)
            .map_or(0, |(_, _, n)| *n);
        let _ = writeln!(
            out,
            "{name}{{projection=\"{}\",version=\"{}\"}} {n}",
            v.name, v.version
        );
    }
    out
}
