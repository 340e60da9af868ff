//! Why projections are waiting, in words an operator can act on.
//!
//! On PostgreSQL a reader of the log only takes events whose transaction is older than every
//! transaction still open in the cluster (see `store/postgres/`), so one forgotten
//! "idle in transaction" session anywhere on the server freezes every projection. This module
//! finds the sessions in the way and explains them. The types are shared with the browser.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Committed events that readers may not take yet, and the open transactions that hold them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HoldReport {
    pub unreadable_events: i64,
    /// When the first waiting event (in reading order) was recorded.
    pub oldest_unreadable_at: Option<DateTime<Utc>>,
    /// Oldest transaction first.
    pub holders: Vec<Holder>,
}

/// An open transaction older than a waiting event. `pid` 0 is a prepared (two-phase)
/// transaction, which has no session; its `query` then names its gid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: i32,
    pub user: Option<String>,
    pub database: Option<String>,
    pub application_name: Option<String>,
    pub client_addr: Option<String>,
    /// `None` when the database role may not see other users' sessions (no pg_read_all_stats).
    pub state: Option<String>,
    pub transaction_age_seconds: f64,
    pub query_started_at: Option<DateTime<Utc>>,
    /// The start of the current or last statement (at most 200 characters); admins only.
    pub query: Option<String>,
    /// One of freightdesk's own appends in flight: normal, and over within milliseconds.
    pub own_append: bool,
}

impl Holder {
    /// The same holder without the statement text, for users who may not see queries.
    pub fn without_query(self) -> Self {
        Self {
            query: None,
            ..self
        }
    }

    pub fn is_prepared(&self) -> bool {
        self.pid == 0
    }
}

impl HoldReport {
    pub fn is_held_back(&self) -> bool {
        self.unreadable_events > 0
    }

    /// Age of the oldest holder's transaction; when no holder shows an age (it just ended, or
    /// its start is hidden from us), how long the first waiting event has waited. 0 if not held.
    pub fn held_for_seconds(&self, now: DateTime<Utc>) -> f64 {
        if !self.is_held_back() {
            return 0.0;
        }
        let oldest = self
            .holders
            .iter()
            .map(|h| h.transaction_age_seconds)
            .fold(0.0, f64::max);
        if oldest > 0.0 {
            return oldest;
        }
        self.oldest_unreadable_at.map_or(0.0, |at| {
            (now - at).num_milliseconds().max(0) as f64 / 1000.0
        })
    }

    /// The oldest holder that is not one of our own appends: the one an admin should look at.
    pub fn blocking_holder(&self) -> Option<&Holder> {
        self.holders
            .iter()
            .filter(|h| !h.own_append)
            .max_by(|a, b| {
                a.transaction_age_seconds
                    .total_cmp(&b.transaction_age_seconds)
            })
    }

    /// The same report without statement texts.
    pub fn without_queries(self) -> Self {
        Self {
            holders: self
                .holders
                .into_iter()
                .map(Holder::without_query)
                .collect(),
            ..self
        }
    }
}

/// One plain paragraph: what waits, why freightdesk waits instead of skipping, and what to do.
pub fn explain(report: &HoldReport) -> String {
    if !report.is_held_back() {
        return "Projections can read every committed event; no open transaction holds them back."
            .to_string();
    }
    let waiting = waiting_sentence(report);
    let Some(holder) = report.blocking_holder() else {
        let own = report.holders.len();
        return if own > 0 {
            format!("{waiting} They wait for {own} of freightdesk's own appends still in flight; this is normal and clears within milliseconds.")
        } else {
            format!("{waiting} No open transaction older than them was found, so it has probably just ended; if this persists, look for the oldest backend_xid in pg_stat_activity and for pg_prepared_xacts.")
        };
    };
    let why = "Projections read events in transaction order and may not read past a transaction that is still open, because it could still commit an event that belongs before them; skipping ahead would make them miss that event for good, so freightdesk waits instead. Transaction ids are shared by every database on the server, so a session in any database holds freightdesk back.";
    format!("{waiting} {why} {} {}", describe(holder), remedy(holder))
}

fn waiting_sentence(report: &HoldReport) -> String {
    let n = report.unreadable_events;
    let plural = if n == 1 { "event is" } else { "events are" };
    match report.oldest_unreadable_at {
        Some(at) => format!(
            "{n} committed {plural} waiting to be read (the first recorded at {}).",
            at.format("%Y-%m-%d %H:%M:%S UTC")
        ),
        None => format!("{n} committed {plural} waiting to be read."),
    }
}

fn describe(h: &Holder) -> String {
    let age = human_duration(h.transaction_age_seconds);
    let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".to_string());
    if h.is_prepared() {
        return format!(
            "The oldest transaction in the way is a prepared (two-phase) transaction of user {} in database {}, prepared {age} ago.",
            or_unknown(&h.user),
            or_unknown(&h.database)
        );
    }
    let whose = format!(
        "session {} (user {}, database {}, application {}, from {})",
        h.pid,
        or_unknown(&h.user),
        or_unknown(&h.database),
        h.application_name
            .as_deref()
            .filter(|a| !a.is_empty())
            .unwrap_or("unnamed"),
        h.client_addr.as_deref().unwrap_or("a local socket")
    );
    match &h.state {
        Some(state) => format!("The oldest transaction in the way belongs to {whose}, {state}, open for {age}."),
        None => format!("The oldest transaction in the way belongs to {whose}; its details are hidden from freightdesk's database role (grant it pg_read_all_stats to see them)."),
    }
}

fn remedy(h: &Holder) -> String {
    if h.is_prepared() {
        return "An administrator can finish it with COMMIT PREPARED or ROLLBACK PREPARED and its gid (listed in pg_prepared_xacts); ending sessions does not end it.".to_string();
    }
    format!(
        "An administrator can finish that session's work (COMMIT or ROLLBACK), end it with `SELECT pg_terminate_backend({});`, or set `idle_in_transaction_session_timeout` so that forgotten sessions end by themselves.",
        h.pid
    )
}

/// "850 ms", "42 s", "3 min 5 s", "2 h 10 min", "3 d 4 h".
fn human_duration(seconds: f64) -> String {
    if seconds < 1.0 {
        return format!("{} ms", (seconds.max(0.0) * 1000.0).round());
    }
    let s = seconds as i64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        3600..86400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86400, s % 86400 / 3600),
    }
}

#[cfg(feature = "ssr")]
pub use server::prometheus_lines;

#[cfg(feature = "ssr")]
mod server;

#[cfg(test)]
mod tests;
