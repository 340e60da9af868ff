//! The server side of stall diagnosis: Prometheus text. The diagnosing query is the store's
//! (`store/postgres/hold.rs`).

use super::HoldReport;
use chrono::{DateTime, Utc};
use std::fmt::Write;

/// Prometheus text exposition: how long projections have been held back, and a 0/1 gauge per
/// projection version (`versions`: name and version of each one being kept current).
pub fn prometheus_lines(report: &HoldReport, versions: &[(String, i64)]) -> String {
    render(report, versions, Utc::now())
}

pub(super) fn render(
    report: &HoldReport,
    versions: &[(String, i64)],
    now: DateTime<Utc>,
) -> String {
    let mut out = String::new();
    let held = u8::from(report.is_held_back());
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "# HELP freightdesk_projections_held_back_seconds Age of the oldest open transaction holding projections back (0 when none is).\n\
         # TYPE freightdesk_projections_held_back_seconds gauge\n\
         freightdesk_projections_held_back_seconds {:.3}\n\
         # HELP freightdesk_projection_held_back 1 while committed events wait for an older open transaction before this projection version may read them.\n\
         # TYPE freightdesk_projection_held_back gauge",
        report.held_for_seconds(now)
    );
    for (name, version) in versions {
        let _ = writeln!(
            out,
            "freightdesk_projection_held_back{{projection=\"{}\",version=\"{version}\"}} {held}",
            label_value(name)
        );
    }
    out
}

/// Escapes a label value as the text format requires.
fn label_value(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}
