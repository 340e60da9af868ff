//! Where the charts' marks go: pure functions from values to SVG coordinates.

/// The time a sparkline spans, in seconds (the samples the server keeps).
pub(super) const WINDOW_SECONDS: f64 = 3600.0;

/// The vertical range a sparkline draws: from zero (or the lowest value, if below zero) up to
/// the highest, so a small wobble on a large lag does not look like a cliff. `None` when empty.
pub(super) fn value_range(values: &[f64]) -> Option<(f64, f64)> {
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
pub(super) fn sparkline_points(samples: &[(f64, f64)], width: f64, height: f64) -> Vec<(f64, f64)> {
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

/// The `points` attribute of an SVG polyline.
pub(super) fn points_attr(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .map(|(x, y)| format!("{x},{y}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The top of a count axis: the highest count rounded up to 1, 2 or 5 times a power of ten.
pub(super) fn nice_max(max: i64) -> i64 {
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
pub(super) struct Bar {
    pub day: usize,
    pub series: usize,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// Grouped bars, one group per day (oldest left), four bars a group, scaled to `axis_max`.
pub(super) fn daily_bars(days: &[[i64; 4]], axis_max: i64, width: f64, height: f64) -> Vec<Bar> {
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
}
