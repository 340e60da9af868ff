//! Charts an operator reads at a glance, drawn as SVG by the server and redrawn by the browser
//! when new data arrives: a sparkline per version for lag and rate over the last hour, and the
//! daily counts as a bar chart. No chart dependency: the geometry is a few pure functions, tested
//! below. Every chart says in words what it shows, for screen readers (and the bar chart also as
//! a table).

use crate::api::projections::{
    get_daily_shipments, get_projection_samples, DailyRow, VersionSeries, DAILY_DAYS,
};
use crate::error::AppError;
use crate::format::format_number;
use leptos::prelude::*;

/// The time a sparkline spans, in seconds (the samples the server keeps).
const WINDOW_SECONDS: f64 = 3600.0;
const SPARK_WIDTH: f64 = 160.0;
const SPARK_HEIGHT: f64 = 32.0;
/// Room right of a sparkline for its max and min labels.
const SPARK_LABELS: f64 = 84.0;

/// The vertical range a sparkline draws: from zero (or the lowest value, if below zero) up to
/// the highest, so a small wobble on a large lag does not look like a cliff. `None` when empty.
pub(crate) fn value_range(values: &[f64]) -> Option<(f64, f64)> {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold(None, |range: Option<(f64, f64)>, v| match range {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })?;
    Some((lo.min(0.0), hi))
}

/// SVG polyline points for `(seconds_ago, value)` samples: the last hour runs left to right
/// (now at the right edge), values bottom to top. A flat series lies on the bottom edge when
/// it is zero and on the top edge otherwise.
pub(crate) fn sparkline_points(samples: &[(f64, f64)], width: f64, height: f64) -> Vec<(f64, f64)> {
    let values: Vec<f64> = samples.iter().map(|(_, v)| *v).collect();
    let Some((lo, hi)) = value_range(&values) else {
        return Vec::new();
    };
    samples
        .iter()
        .filter(|(ago, v)| ago.is_finite() && v.is_finite())
        .map(|(ago, v)| {
            let x = width * (1.0 - ago.clamp(0.0, WINDOW_SECONDS) / WINDOW_SECONDS);
            let share = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
            (round1(x), round1(height - share * height))
        })
        .collect()
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn points_attr(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .map(|(x, y)| format!("{x},{y}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a sparkline shows, in words: "lag: 0 to 1,234 events over the last hour, now 12".
pub(crate) fn sparkline_text(
    label: &str,
    unit: &str,
    decimals: usize,
    samples: &[(f64, f64)],
) -> String {
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
pub fn Sparkline(
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
        Some((lo, hi)) => view! {
            <line x1="0" y1=SPARK_HEIGHT x2=SPARK_WIDTH y2=SPARK_HEIGHT stroke="#d9dee5" stroke-width="1"/>
            <polyline points=points_attr(&points) fill="none" stroke="#1f4e79" stroke-width="1.5" stroke-linejoin="round"/>
            {newest.map(|(x, y)| view! { <circle cx=x cy=y r="2" fill="#1f4e79"/> })}
            <text x=label_x y="6" font-size="10" fill="#5b6675">{format!("{} {unit}", format_number(hi, decimals))}</text>
            <text x=label_x y=SPARK_HEIGHT + 2.0 font-size="10" fill="#5b6675">{format!("{} {unit}", format_number(lo, decimals))}</text>
        }
        .into_any(),
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

/// The samples of every version, shared by the rows of the projections page and re-read on
/// the page's tick.
#[derive(Clone, Copy)]
pub(crate) struct SampleFeed(Resource<Result<Vec<VersionSeries>, AppError>>);

impl SampleFeed {
    /// Waits for the current samples. The page awaits this in the same `Suspend` as the rows,
    /// so the rows draw their charts synchronously: the server's HTML and the browser's first
    /// render agree (a chart awaiting its own data inside a row fails to hydrate).
    pub(crate) async fn ready(self) {
        let _ = self.0.await;
    }
}

/// Starts the page's samples feed, re-read on `tick`, for the `VersionCharts` below it.
pub(crate) fn provide_sample_feed(tick: RwSignal<u32>) -> SampleFeed {
    let feed = SampleFeed(Resource::new(
        move || tick.get(),
        |_| get_projection_samples(),
    ));
    provide_context(feed);
    feed
}

/// Lag and rate of one version over the last hour, from the page's feed (see `SampleFeed`);
/// nothing while the samples are not there.
#[component]
pub fn VersionCharts(#[prop(into)] key: String) -> impl IntoView {
    let all = use_context::<SampleFeed>()
        .and_then(|feed| feed.0.get_untracked())
        .and_then(Result::ok)?;
    let series = all.into_iter().find(|s| s.key == key)?;
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
    Some(view! {
        <div class="version-charts" data-testid="version-charts">
            <Sparkline label="lag" unit="events" decimals=0 samples=lag/>
            <Sparkline label="rate" unit="events/s" decimals=1 samples=rate/>
        </div>
    })
}

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

/// The top of a count axis: the highest count rounded up to 1, 2 or 5 times a power of ten.
pub(crate) fn nice_max(max: i64) -> i64 {
    let mut step = 1_i64;
    loop {
        for m in [1, 2, 5] {
            let top = step.saturating_mul(m);
            if top >= max || top == i64::MAX {
                return top;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// One bar of the daily chart, in plot coordinates (origin top left).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    pub day: usize,
    pub series: usize,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// Grouped bars, one group per day (oldest left), four bars a group, scaled to `axis_max`.
pub(crate) fn daily_bars(days: &[[i64; 4]], axis_max: i64, width: f64, height: f64) -> Vec<Bar> {
    if days.is_empty() || axis_max <= 0 {
        return Vec::new();
    }
    let group = width / days.len() as f64;
    let bar = group * 0.8 / 4.0;
    days.iter()
        .enumerate()
        .flat_map(|(day, values)| {
            values.iter().enumerate().map(move |(series, &n)| {
                let h = height * (n.max(0) as f64 / axis_max as f64).min(1.0);
                Bar {
                    day,
                    series,
                    x: round1(day as f64 * group + group * 0.1 + series as f64 * bar),
                    y: round1(height - h),
                    width: round1(bar),
                    height: round1(h),
                }
            })
        })
        .collect()
}

/// What the daily chart shows, in words.
pub(crate) fn daily_summary(days: &[DailyRow]) -> String {
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

/// The daily counts of the last 30 days as a bar chart, with a legend and a table.
#[component]
pub fn DailyChart() -> impl IntoView {
    let daily = Resource::new(|| (), |_| get_daily_shipments(String::new()));
    view! {
        <section class="card" data-testid="daily-chart">
            <h2>{format!("Shipments per day, last {DAILY_DAYS} days (UTC)")}</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading the daily counts…"</p> }>
                {move || Suspend::new(async move {
                    match daily.await {
                        Ok(d) => {
                            // The server sends the newest day first; time runs left to right.
                            let mut days = d.days;
                            days.reverse();
                            view! {
                                <DailyBars days/>
                                <p class="muted served-by">{format!("Served by {}", d.served_by)}</p>
                            }
                            .into_any()
                        }
                        Err(e) => view! {
                            <p class="muted">{format!("The daily counts are not available: {e}")}</p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn DailyBars(days: Vec<DailyRow>) -> impl IntoView {
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
                <tr><td>{r.day.clone()}</td><td>{r.scheduled}</td><td>{r.picked_up}</td><td>{r.delivered}</td><td>{r.cancelled}</td></tr>
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

    /// `(seconds_ago, value)` samples, or points, of a case.
    type Pairs = &'static [(f64, f64)];
    type Range = Option<(f64, f64)>;

    #[test]
    fn the_range_starts_at_zero_unless_values_go_below() {
        let cases: [(&[f64], Range); 5] = [
            (&[], None),
            (&[5.0, 9.0], Some((0.0, 9.0))),
            (&[0.0, 0.0], Some((0.0, 0.0))),
            (&[-2.0, 3.0], Some((-2.0, 3.0))),
            (&[f64::NAN, 4.0], Some((0.0, 4.0))),
        ];
        for (values, want) in cases {
            assert_eq!(value_range(values), want, "{values:?}");
        }
    }

    #[test]
    fn sparklines_scale_time_across_and_values_up() {
        let cases: [(Pairs, Pairs); 6] = [
            // Empty: nothing to draw.
            (&[], &[]),
            // An hour ago at the left, now at the right; zero at the bottom, the max at the top.
            (
                &[(3600.0, 0.0), (1800.0, 50.0), (0.0, 100.0)],
                &[(0.0, 32.0), (80.0, 16.0), (160.0, 0.0)],
            ),
            // Flat at zero lies on the bottom edge, flat above zero on the top edge.
            (&[(60.0, 0.0), (0.0, 0.0)], &[(157.3, 32.0), (160.0, 32.0)]),
            (&[(60.0, 7.0), (0.0, 7.0)], &[(157.3, 0.0), (160.0, 0.0)]),
            // Samples outside the hour are pinned to its edges, not drawn off the chart.
            (&[(7200.0, 1.0), (-5.0, 1.0)], &[(0.0, 0.0), (160.0, 0.0)]),
            // One sample: one point.
            (&[(0.0, 3.0)], &[(160.0, 0.0)]),
        ];
        for (samples, want) in cases {
            assert_eq!(sparkline_points(samples, 160.0, 32.0), want, "{samples:?}");
        }
    }

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

    #[test]
    fn count_axes_end_on_round_numbers() {
        let cases = [
            (0, 1),
            (1, 1),
            (2, 2),
            (3, 5),
            (7, 10),
            (11, 20),
            (250, 500),
            (1000, 1000),
        ];
        for (max, want) in cases {
            assert_eq!(nice_max(max), want, "{max}");
        }
        assert_eq!(nice_max(i64::MAX), i64::MAX);
    }

    #[test]
    fn daily_bars_group_by_day_and_scale_to_the_axis() {
        let bars = daily_bars(&[[10, 5, 0, 0], [0, 0, 0, 10]], 10, 200.0, 100.0);
        assert_eq!(bars.len(), 8);
        let first = &bars[0];
        assert_eq!((first.day, first.series), (0, 0));
        assert_eq!(
            (first.x, first.y, first.width, first.height),
            (10.0, 0.0, 20.0, 100.0)
        );
        assert_eq!((bars[1].x, bars[1].y, bars[1].height), (30.0, 50.0, 50.0));
        assert_eq!(bars[2].height, 0.0);
        // The second day starts its own group; its last bar is the cancelled one.
        assert_eq!((bars[7].day, bars[7].series, bars[7].x), (1, 3, 170.0));
        assert!(daily_bars(&[], 10, 200.0, 100.0).is_empty());
        assert!(daily_bars(&[[1, 1, 1, 1]], 0, 200.0, 100.0).is_empty());
        // A count above the axis is drawn to the top, never past it.
        assert_eq!(
            daily_bars(&[[20, 0, 0, 0]], 10, 200.0, 100.0)[0].height,
            100.0
        );
    }

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
