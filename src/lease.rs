//! Work one node runs alone (a projection version, a webhook subscription): the one loop that
//! takes the lease, runs the work step by step while the lease holds, and lets go on shutdown.
//! How the lease is held depends on the database (`store::Lease`); the keys are made here.

use crate::store::{EventStore, LeaseSpare};
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// How often a node that does not own the work asks for it again.
pub const TAKEOVER_INTERVAL: Duration = Duration::from_secs(1);

/// A stable 64-bit key (FNV-1a) for the advisory lock of anything one node must run alone.
pub fn lock_key_for(name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("freightdesk:{name}").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

/// What one step of the work came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Something was done: step again at once.
    Worked,
    /// Nothing to do now: wait for an append, the given time, or shutdown.
    Idle(Duration),
    /// The work is gone (e.g. its subscription was deleted): stop for good.
    Gone,
}

/// A piece of work one node runs alone. `step` errors are logged and retried after
/// `retry_after`; they never end the loop.
pub trait ExclusiveWork: Send + 'static {
    type Error: std::fmt::Display + Send;

    /// The lock key and the name used in logs.
    fn key(&self) -> i64;
    fn name(&self) -> String;
    /// Records (or clears) which node runs the work, for the operators' pages.
    fn set_owner(&self, owner: Option<&str>) -> impl Future<Output = ()> + Send;
    /// Called each time this node takes the lease: forget what a previous term remembered.
    fn start_owning(&mut self) {}
    fn step(&mut self) -> impl Future<Output = Result<Progress, Self::Error>> + Send;
    fn retry_after(&self) -> Duration;
}

/// How the owned part of the loop ended.
enum Ended {
    Shutdown,
    Gone,
    LeaseLost,
}

/// Takes the lease (asking again every `TAKEOVER_INTERVAL` while another node holds it), runs
/// the work while it holds, and starts over when the lease is lost. On shutdown the owner is
/// cleared and the lease released (its connection closed).
pub async fn run_exclusively<W: ExclusiveWork>(
    store: EventStore,
    node: String,
    mut work: W,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut spare = LeaseSpare::default();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let Some(mut lease) = store.try_lease(work.key(), &mut spare).await else {
            tokio::select! {
                _ = tokio::time::sleep(TAKEOVER_INTERVAL) => continue,
                _ = shutdown.changed() => return,
            }
        };
        tracing::info!(node = %node, "running {}", work.name());
        work.set_owner(Some(&node)).await;
        work.start_owning();
        let mut appended = store.subscribe();
        let ended = loop {
            if *shutdown.borrow() {
                break Ended::Shutdown;
            }
            let wait = match work.step().await {
                Ok(Progress::Worked) => continue,
                Ok(Progress::Idle(wait)) => wait,
                Ok(Progress::Gone) => break Ended::Gone,
                Err(e) => {
                    tracing::warn!(error = %e, "{} step failed; retrying", work.name());
                    work.retry_after()
                }
            };
            if !lease.still_held().await {
                break Ended::LeaseLost;
            }
            tokio::select! {
                _ = appended.recv() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => break Ended::Shutdown,
            }
        };
        match ended {
            Ended::Shutdown => {
                work.set_owner(None).await;
                return;
            }
            Ended::Gone => return,
            Ended::LeaseLost => tracing::warn!(node = %node, "lost the lease of {}", work.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        use crate::projections::Definition;
        let name = |d: &Definition| format!("projection:{}", d.key());
        let keys: Vec<i64> = Definition::ALL
            .iter()
            .map(|d| lock_key_for(&name(d)))
            .collect();
        assert_eq!(keys[0], lock_key_for("projection:shipment_board@1"));
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len());
        assert!(!keys.contains(&lock_key_for("subscription:1")));
    }
}
