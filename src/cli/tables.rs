//! The text tables the command line prints: fixed-width columns a person reads on a terminal.

use crate::auth::UserSummary;
use crate::format::human_duration;
use crate::projections::status::ProjectionsOverview;
use crate::stall::HolderRole;
use crate::subscriptions::SubscriptionSummary;
use std::fmt::Write;

/// The status table, with a line on what holds the projections back.
pub(super) fn status_table(overview: &ProjectionsOverview) -> String {
    let mut out = format!("{}\n", hold_line(overview));
    let _ = writeln!(
        out,
        "{:<20} {:<9} {:>10} {:>10} {:>8} {:>9} {:<20} {:<24} error",
        "version", "state", "checkpoint", "head", "lag", "ev/s", "node", "rebuild"
    );
    for v in &overview.versions {
        let rebuild = v
            .rebuild
            .as_ref()
            .map(|r| {
                let left = r
                    .eta_seconds
                    .map(|s| format!(", {} left", human_duration(s as i64)))
                    .unwrap_or_default();
                format!("{:.0}% ({}/{}){left}", r.percent(), r.done, r.total)
            })
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<20} {:<9} {:>10} {:>10} {:>8} {:>9.1} {:<20} {:<24} {}",
            v.key,
            v.state,
            v.checkpoint_seq,
            v.head_seq,
            v.lag_events,
            v.events_per_sec,
            v.owner_node.as_deref().unwrap_or("-"),
            rebuild,
            v.error.as_deref().unwrap_or_default()
        );
    }
    out
}

/// One line on what slows the live path, as the page's banner says it.
fn hold_line(overview: &ProjectionsOverview) -> String {
    let Some(hold) = &overview.hold else {
        return "held back: never on SQLite (one writer at a time)".to_string();
    };
    let Some(h) = hold.blocking_holder() else {
        return "held back: no (only an event's own open transaction can delay it)".to_string();
    };
    let seconds = hold.held_for_seconds();
    let what = match h.role {
        HolderRole::Blocker => format!(
            "{} freightdesk sessions wait for a lock held by",
            hold.waiting_sessions.max(h.blocks)
        ),
        HolderRole::SlowAppend => "a slow append,".to_string(),
        HolderRole::SlowBatch => "a slow projection batch,".to_string(),
    };
    format!(
        "held back: {seconds:.0}s, {what} pid {} ({}, user {}, application {})",
        h.pid,
        h.state.as_deref().unwrap_or("state unknown"),
        h.user.as_deref().unwrap_or("unknown"),
        h.application_name.as_deref().unwrap_or("unnamed"),
    )
}

/// `users list`: name, role, whether they may sign in, and the name the console shows.
pub(super) fn users_table(users: &[UserSummary]) -> String {
    let mut out = format!(
        "{:<24} {:<11} {:<9} display name\n",
        "name", "role", "state"
    );
    for u in users {
        let state = if u.disabled_at.is_some() {
            "disabled"
        } else {
            "active"
        };
        let _ = writeln!(
            out,
            "{:<24} {:<11} {:<9} {}",
            u.name, u.role, state, u.display_name
        );
    }
    out
}

/// `subscriptions list`: each subscription's state, progress, deliveries, node and target.
pub(super) fn subscriptions_table(subscriptions: &[SubscriptionSummary]) -> String {
    let mut out = format!(
        "{:<24} {:<7} {:>10} {:>8} {:>8} {:>10} {:>6} {:<20} target\n",
        "name", "state", "checkpoint", "lag", "pending", "delivered", "dead", "node"
    );
    for s in subscriptions {
        let _ = writeln!(
            out,
            "{:<24} {:<7} {:>10} {:>8} {:>8} {:>10} {:>6} {:<20} {}",
            s.name,
            s.state.as_str(),
            s.checkpoint,
            s.lag_events,
            s.pending,
            s.delivered,
            s.dead,
            s.owner.as_deref().unwrap_or("-"),
            s.target_url
        );
    }
    out
}
