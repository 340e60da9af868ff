//! What slows freightdesk's live path down right now, in words an operator can act on.
//!
//! On PostgreSQL a reader's checkpoint is a transaction snapshot (`store/checkpoint.rs`), so
//! only an event's own open transaction delays it: a forgotten `psql` transaction in any
//! database holds nothing back any more. What can still slow the live path:
//! - one of freightdesk's appends that stays open: its events, and later changes to the same
//!   shipments (they queue for its row lock), appear when it commits;
//! - a projection batch (or another of freightdesk's writes) that runs long: that
//!   projection's lag grows until it commits;
//! - another session holding a lock freightdesk's work waits for (a row of a shipment's
//!   stream, a projection table).
//!
//! The store's diagnosis (`store/postgres/hold.rs`) finds them; this module explains them. The
//! types are shared with the browser.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// freightdesk's slow work and what it waits for, at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HoldReport {
    /// freightdesk sessions (appends, projection batches) waiting for a lock right now.
    pub waiting_sessions: i64,
    /// Oldest transaction first: freightdesk's writes open longer than
    /// `SLOW_TRANSACTION_SECONDS`, and every other session that blocks one of freightdesk's.
    pub holders: Vec<Holder>,
}

/// A freightdesk write open for longer than this is named as slow: appends take milliseconds,
/// a projection batch well under a second.
pub const SLOW_TRANSACTION_SECONDS: f64 = 1.0;

/// What a holder is to freightdesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HolderRole {
    /// One of freightdesk's appends, open for long.
    SlowAppend,
    /// One of freightdesk's other writes (a projection batch, a rebuild, an operator's
    /// action), open for long.
    SlowBatch,
    /// Another session, holding a lock some of freightdesk's work waits for.
    Blocker,
}

/// An open transaction that slows freightdesk. `pid` 0 is a prepared (two-phase)
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
    pub role: HolderRole,
    /// How many of freightdesk's sessions wait for its locks.
    pub blocks: i64,
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
    /// True while something slows freightdesk's live path.
    pub fn is_held_back(&self) -> bool {
        !self.holders.is_empty()
    }

    /// Age of the oldest holder's transaction; 0 if nothing holds freightdesk back.
    pub fn held_for_seconds(&self) -> f64 {
        self.holders
            .iter()
            .map(|h| h.transaction_age_seconds.max(0.0))
            .fold(0.0, f64::max)
    }

    /// The holder an admin should look at: another session in the way first (the oldest),
    /// else freightdesk's own oldest slow write.
    pub fn blocking_holder(&self) -> Option<&Holder> {
        let oldest = |role: fn(&Holder) -> bool| {
            self.holders.iter().filter(|h| role(h)).max_by(|a, b| {
                a.transaction_age_seconds
                    .total_cmp(&b.transaction_age_seconds)
            })
        };
        oldest(|h| h.role == HolderRole::Blocker).or_else(|| oldest(|_| true))
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

    pub fn slow_appends(&self) -> usize {
        self.count(HolderRole::SlowAppend)
    }

    pub fn slow_batches(&self) -> usize {
        self.count(HolderRole::SlowBatch)
    }

    fn count(&self, role: HolderRole) -> usize {
        self.holders.iter().filter(|h| h.role == role).count()
    }
}

/// One plain paragraph: what is slow, what it delays (and what it does not), and what to do.
pub fn explain(report: &HoldReport) -> String {
    let Some(holder) = report.blocking_holder() else {
        return "Nothing holds projections back: only an event's own open transaction can delay it, and none of freightdesk's is open for long. A transaction left open elsewhere (a forgotten psql session, in any database) does not hold them back.".to_string();
    };
    let age = human_duration(holder.transaction_age_seconds);
    match holder.role {
        HolderRole::Blocker => {
            let waiting = report.waiting_sessions.max(holder.blocks);
            let plural = if waiting == 1 { "session waits" } else { "sessions wait" };
            format!(
                "{waiting} of freightdesk's {plural} for a lock held by {}. Appends to the shipments it locked, or the projection batch that needs its rows, continue when it ends; everything else goes on. {}",
                describe(holder),
                remedy(holder)
            )
        }
        HolderRole::SlowAppend => format!(
            "One of freightdesk's appends has been open for {age} ({}). Its events, and later changes to the same shipments, appear when it commits; other shipments are not held back. This usually means the database server is overloaded or its disk is slow.",
            describe(holder)
        ),
        HolderRole::SlowBatch => format!(
            "A projection batch or another of freightdesk's writes has been running for {age} ({}). That projection's lag grows until it commits; appends and the other projections are not held back. A very large batch or a slow disk does this; a smaller batch size (--batch-size) makes each one shorter.",
            describe(holder)
        ),
    }
}

fn describe(h: &Holder) -> String {
    let age = human_duration(h.transaction_age_seconds);
    let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".to_string());
    if h.is_prepared() {
        return format!(
            "a prepared (two-phase) transaction of user {} in database {}, prepared {age} ago",
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
        Some(state) => format!("{whose}, {state}, open for {age}"),
        None => format!("{whose}; its details are hidden from freightdesk's database role (grant it pg_read_all_stats to see them)"),
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
