//! A sparkline per version: its lag and rate over the last hour.

use super::geometry::{points_attr, sparkline_points, value_range};
use crate::api::projections::VersionSeries;
use crate::format::format_number;
use leptos::prelude::*;

const SPARK_WIDTH: f64 = 160.0;
const SPARK_HEIGHT: f64 = 32.0;
/// Room right of a sparkline for its max and min labels.
const SPARK_LABELS: f64 = 84.0;

/// What a sparkline shows, in words: "lag: 0 to 1,234 events over the last hour, now 12".
fn sparkline_text(label: &str, unit: &str, decimals: usize, samples: &[(f64, f64)]) -> String {
    let values: Vec<f64> = samples.iter().map(|(_, v)| *v).collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let newest = samples
        .iter()
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| *v);
    match newest {
        None => format!("{label}: no samples in the last hour"),
        Some(now) => format!(
            "{label}: {} to {} {unit} over the last hour, now {}",
            format_number(lo, decimals),
            format_number(hi, decimals),
            format_number(now, decimals),
        ),
    }
}

/// A small line chart of one quantity over the last hour, with its range and units beside it.
#[component]
fn Sparkline(
    /// What is measured, e.g. "lag".
    label: &'static str,
    /// Its unit, e.g. "events".
    unit: &'static str,
    /// Decimals shown in the labels.
    decimals: usize,
    /// `(seconds_ago, value)`, any order.
    samples: Vec<(f64, f64)>,
) -> impl IntoView {
    let text = sparkline_text(label, unit, decimals, &samples);
    let mut points = sparkline_points(&samples, SPARK_WIDTH, SPARK_HEIGHT);
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let values: Vec<f64> = samples.iter().map(|(_, v)| *v).collect();
    let range = value_range(&values);
    let newest = points.last().copied();
    let label_x = SPARK_WIDTH + 6.0;
    let view_box = format!("0 -4 {} {}", SPARK_WIDTH + SPARK_LABELS, SPARK_HEIGHT + 8.0);
    let body = match range {
        None => view! {
            <text x="0" y=SPARK_HEIGHT / 2.0 + 4.0 font-size="10" fill="#5b6675">"no samples yet"</text>
        }
        .into_any(),
        Some((lo, hi)) => {
            let (hi, lo) = (format_number(hi, decimals), format_number(lo, decimals));
            // A flat line (idle: "0 events" all hour) has one value: said once.
            let top = (hi != lo).then(|| {
                view! { <text x=label_x y="6" font-size="10" fill="#5b6675">{format!("{hi} {unit}")}</text> }
            });
            view! {
                <line x1="0" y1=SPARK_HEIGHT x2=SPARK_WIDTH y2=SPARK_HEIGHT stroke="#d9dee5" stroke-width="1"/>
                <polyline points=points_attr(&points) fill="none" stroke="#1f4e79" stroke-width="1.5" stroke-linejoin="round"/>
                {newest.map(|(x, y)| view! { <circle cx=x cy=y r="2" fill="#1f4e79"/> })}
                {top}
                <text x=label_x y=SPARK_HEIGHT + 2.0 font-size="10" fill="#5b6675">{format!("{lo} {unit}")}</text>
            }
            .into_any()
        }
    };
    view! {
        <svg
            class="sparkline"
            role="img"
            data-testid="sparkline"
            data-series=label
            viewBox=view_box
            width=SPARK_WIDTH + SPARK_LABELS
            height=SPARK_HEIGHT + 8.0
        >
            <title>{text}</title>
            {body}
        </svg>
    }
}

/// Lag and rate of one version over the last hour.
#[component]
pub fn VersionCharts(series: VersionSeries) -> impl IntoView {
    let lag = series
        .points
        .iter()
        .map(|p| (p.seconds_ago, p.lag_events as f64))
        .collect();
    let rate = series
        .points
        .iter()
        .map(|p| (p.seconds_ago, p.events_per_sec))
        .collect();
    view! {
        <div class="version-charts" data-testid="version-charts">
            <Sparkline label="lag" unit="events" decimals=0 samples=lag/>
            <Sparkline label="rate" unit="events/s" decimals=1 samples=rate/>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(seconds_ago, value)` samples of a case.
    type Pairs = &'static [(f64, f64)];

    #[test]
    fn sparklines_say_what_they_show() {
        let cases: [(&str, &str, usize, Pairs, &str); 4] = [
            ("lag", "events", 0, &[], "lag: no samples in the last hour"),
            (
                "lag",
                "events",
                0,
                &[(3000.0, 0.0), (1200.0, 1234.0), (5.0, 12.0)],
                "lag: 0 to 1,234 events over the last hour, now 12",
            ),
            (
                "rate",
                "events/s",
                1,
                &[(5.0, 12.5), (10.0, 45.24)],
                "rate: 12.5 to 45.2 events/s over the last hour, now 12.5",
            ),
            (
                "lag",
                "events",
                0,
                &[(1.0, 0.0)],
                "lag: 0 to 0 events over the last hour, now 0",
            ),
        ];
        for (label, unit, decimals, samples, want) in cases {
            assert_eq!(sparkline_text(label, unit, decimals, samples), want);
        }
    }
}
