//! The daily counts as grouped bars, one group per day, with a legend and a table.

use super::geometry::{daily_bars, nice_max};
use crate::api::projections::DailyRow;
use crate::format::format_number;
use leptos::prelude::*;

/// The four daily counters: name, colour.
const DAILY_SERIES: [(&str, &str); 4] = [
    ("Scheduled", "#1f4e79"),
    ("Picked up", "#c77700"),
    ("Delivered", "#1e7b4f"),
    ("Cancelled", "#b3261e"),
];

fn counts(row: &DailyRow) -> [i64; 4] {
    [row.scheduled, row.picked_up, row.delivered, row.cancelled]
}

/// What the daily chart shows, in words.
fn daily_summary(days: &[DailyRow]) -> String {
    let mut totals = [0_i64; 4];
    for row in days {
        for (total, n) in totals.iter_mut().zip(counts(row)) {
            *total += n;
        }
    }
    let intro = format!("Shipments per day over the last {} days", days.len());
    if totals.iter().all(|&n| n == 0) {
        return format!("{intro}: no activity");
    }
    let parts: Vec<String> = DAILY_SERIES
        .iter()
        .zip(totals)
        .map(|((name, _), n)| format!("{} {}", format_number(n as f64, 0), name.to_lowercase()))
        .collect();
    let busiest = days
        .iter()
        .max_by_key(|r| {
            (
                counts(r).iter().sum::<i64>(),
                std::cmp::Reverse(r.day.clone()),
            )
        })
        .map(|r| {
            let total: i64 = counts(r).iter().sum();
            format!("; busiest day {} with {total}", r.day)
        })
        .unwrap_or_default();
    format!("{intro}: {}{busiest}", parts.join(", "))
}

const DAILY_WIDTH: f64 = 720.0;
const DAILY_HEIGHT: f64 = 240.0;
/// Room for the count axis (left) and the day axis (below).
const DAILY_LEFT: f64 = 56.0;
const DAILY_BOTTOM: f64 = 44.0;
const DAILY_TOP: f64 = 8.0;

/// The daily counts, oldest day first, as a bar chart with a legend and the same counts as a
/// table.
#[component]
pub fn DailyChart(days: Vec<DailyRow>) -> impl IntoView {
    let plot_w = DAILY_WIDTH - DAILY_LEFT - 8.0;
    let plot_h = DAILY_HEIGHT - DAILY_TOP - DAILY_BOTTOM;
    let values: Vec<[i64; 4]> = days.iter().map(counts).collect();
    let top = values.iter().flatten().copied().max().unwrap_or(0);
    let axis_max = nice_max(top.max(1));
    let bars = daily_bars(&values, axis_max, plot_w, plot_h);
    let summary = daily_summary(&days);
    let group = plot_w / days.len().max(1) as f64;
    let y_of = |n: i64| DAILY_TOP + plot_h * (1.0 - n as f64 / axis_max as f64);
    let mut ticks = vec![0, axis_max];
    if axis_max % 2 == 0 {
        ticks.insert(1, axis_max / 2);
    }
    let last = days.len().saturating_sub(1);
    let day_labels = days
        .iter()
        .enumerate()
        // Weekly, counted back from today, so today always has its label.
        .filter(|(i, _)| (last - i).is_multiple_of(7))
        .map(|(i, r)| {
            let x = DAILY_LEFT + group * (i as f64 + 0.5);
            let label = r.day.get(5..).unwrap_or(&r.day).to_string();
            view! { <text x=x y=DAILY_HEIGHT - DAILY_BOTTOM + 16.0 font-size="11" text-anchor="middle" fill="#5b6675">{label}</text> }
        })
        .collect_view();
    let tick_marks = ticks
        .into_iter()
        .map(|n| {
            let y = y_of(n);
            view! {
                <line x1=DAILY_LEFT x2=DAILY_WIDTH - 8.0 y1=y y2=y stroke="#d9dee5" stroke-width="1"/>
                <text x=DAILY_LEFT - 6.0 y=y + 4.0 font-size="11" text-anchor="end" fill="#5b6675">{format_number(n as f64, 0)}</text>
            }
        })
        .collect_view();
    let rects = bars
        .into_iter()
        .filter(|b| b.height > 0.0)
        .map(|b| {
            let (name, colour) = DAILY_SERIES[b.series];
            let row = &days[b.day];
            let tip = format!("{}: {} {}", row.day, counts(row)[b.series], name.to_lowercase());
            view! {
                <rect x=DAILY_LEFT + b.x y=DAILY_TOP + b.y width=b.width height=b.height fill=colour data-series=name>
                    <title>{tip}</title>
                </rect>
            }
        })
        .collect_view();
    let legend = DAILY_SERIES
        .iter()
        .map(|(name, colour)| {
            view! {
                <li style="display: inline-flex; align-items: center; gap: 0.3rem; margin-right: 1rem">
                    <span aria-hidden="true" style=format!("display: inline-block; width: 0.8rem; height: 0.8rem; background: {colour}")></span>
                    {*name}
                </li>
            }
        })
        .collect_view();
    let table_rows = days
        .iter()
        .rev()
        .map(|r| {
            view! {
                <tr><td class="nowrap">{r.day.clone()}</td><td>{r.scheduled}</td><td>{r.picked_up}</td><td>{r.delivered}</td><td>{r.cancelled}</td></tr>
            }
        })
        .collect_view();
    view! {
        <svg
            role="img"
            data-testid="daily-bars"
            viewBox=format!("0 0 {DAILY_WIDTH} {DAILY_HEIGHT}")
            style="width: 100%; max-width: 720px; height: auto"
        >
            <title>{summary}</title>
            {tick_marks}
            {rects}
            <line x1=DAILY_LEFT x2=DAILY_WIDTH - 8.0 y1=DAILY_TOP + plot_h y2=DAILY_TOP + plot_h stroke="#1b2430" stroke-width="1"/>
            {day_labels}
            <text x=DAILY_LEFT + plot_w / 2.0 y=DAILY_HEIGHT - 6.0 font-size="12" text-anchor="middle" fill="#1b2430">"Day (UTC)"</text>
            <text
                transform=format!("translate(14 {}) rotate(-90)", DAILY_TOP + plot_h / 2.0)
                font-size="12"
                text-anchor="middle"
                fill="#1b2430"
            >
                "Shipments per day"
            </text>
        </svg>
        <ul aria-label="Legend" data-testid="daily-legend" style="list-style: none; padding: 0; margin: 0.5rem 0">
            {legend}
        </ul>
        <details>
            <summary>"The same counts as a table"</summary>
            <table data-testid="daily-chart-table">
                <thead><tr><th>"Day (UTC)"</th><th>"Scheduled"</th><th>"Picked up"</th><th>"Delivered"</th><th>"Cancelled"</th></tr></thead>
                <tbody>{table_rows}</tbody>
            </table>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(day: &str, [scheduled, picked_up, delivered, cancelled]: [i64; 4]) -> DailyRow {
        DailyRow {
            day: day.into(),
            scheduled,
            picked_up,
            delivered,
            cancelled,
        }
    }

    #[test]
    fn the_daily_chart_says_what_it_shows() {
        let quiet = [row("2026-11-28", [0; 4]), row("2026-11-29", [0; 4])];
        assert_eq!(
            daily_summary(&quiet),
            "Shipments per day over the last 2 days: no activity"
        );
        let busy = [
            row("2026-11-27", [3, 1, 0, 0]),
            row("2026-11-28", [1200, 2, 1, 1]),
            row("2026-11-29", [0, 0, 0, 0]),
        ];
        assert_eq!(
            daily_summary(&busy),
            "Shipments per day over the last 3 days: 1,203 scheduled, 3 picked up, 1 delivered, \
             1 cancelled; busiest day 2026-11-28 with 1204"
        );
    }
}
