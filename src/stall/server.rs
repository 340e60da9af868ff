//! The server side of stall diagnosis: Prometheus text. The diagnosing query is the store's
//! (`store/postgres/hold.rs`).

use super::HoldReport;
use std::fmt::Write;

/// Prometheus text exposition: how long freightdesk's live path has been slowed, by what, and
/// a 0/1 gauge per projection version (`versions`: name and version of each one being kept
/// current).
pub fn prometheus_lines(report: &HoldReport, versions: &[(String, i64)]) -> String {
    let mut out = String::new();
    let held = u8::from(report.is_held_back());
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "# HELP freightdesk_projections_held_back_seconds Age of the oldest transaction slowing freightdesk: a slow append or projection batch, or a session whose lock freightdesk waits for (0 when none is).\n\
         # TYPE freightdesk_projections_held_back_seconds gauge\n\
         freightdesk_projections_held_back_seconds {:.3}\n\
         # HELP freightdesk_slow_appends freightdesk appends open for a second or more.\n\
         # TYPE freightdesk_slow_appends gauge\n\
         freightdesk_slow_appends {}\n\
         # HELP freightdesk_slow_batches freightdesk projection batches (or other writes) open for a second or more.\n\
         # TYPE freightdesk_slow_batches gauge\n\
         freightdesk_slow_batches {}\n\
         # HELP freightdesk_lock_waits freightdesk sessions waiting for a lock another transaction holds.\n\
         # TYPE freightdesk_lock_waits gauge\n\
         freightdesk_lock_waits {}\n\
         # HELP freightdesk_projection_held_back 1 while something slows freightdesk's live path (see freightdesk_projections_held_back_seconds).\n\
         # TYPE freightdesk_projection_held_back gauge",
        report.held_for_seconds(),
        report.slow_appends(),
        report.slow_batches(),
        report.waiting_sessions,
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
