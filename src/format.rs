//! Numbers and durations as a person reads them, shared by the command line and the pages (so
//! the terminal and the console say the same thing the same way).

/// "3h 12m" for a number of seconds; under a minute, the seconds.
pub(crate) fn human_duration(seconds: i64) -> String {
    let (d, h, m) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    match (d, h) {
        (0, 0) if m == 0 => format!("{}s", seconds.max(0)),
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// `1234567.26` → `"1,234,567.3"` with one decimal: numbers an operator reads, not parses.
pub(crate) fn format_number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "—".to_string();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    match fraction {
        "" => format!("{sign}{grouped}"),
        f => format!("{sign}{grouped}.{f}"),
    }
}

/// "1 row", "3 rows": a count with its noun, singular or plural.
pub(crate) fn count(n: i64, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count(0, "row", "rows"), "0 rows");
        assert_eq!(count(1, "report", "reports"), "1 report");
        assert_eq!(count(2, "report", "reports"), "2 reports");
        assert_eq!(count(-1, "event", "events"), "-1 events");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(59), "59s");
        assert_eq!(human_duration(61), "1m");
        assert_eq!(human_duration(3 * 3600 + 12 * 60), "3h 12m");
        assert_eq!(human_duration(2 * 86_400 + 3600), "2d 1h");
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        let cases = [
            (0.0, 0, "0"),
            (12.0, 0, "12"),
            (1234.0, 0, "1,234"),
            (1_234_567.26, 1, "1,234,567.3"),
            (999.96, 1, "1,000.0"),
            (-4321.0, 0, "-4,321"),
            (-0.01, 1, "0.0"),
            (f64::NAN, 0, "—"),
        ];
        for (value, decimals, want) in cases {
            assert_eq!(format_number(value, decimals), want, "{value}");
        }
    }
}
