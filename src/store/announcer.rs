//! Tells the other processes on a PostgreSQL database about appends, after they commit.
//!
//! A `pg_notify` inside the append's own transaction would make PostgreSQL serialise the
//! commits of all appending transactions (it holds one lock from queueing the notification to
//! the end of the commit), which is what kept 16 writers from committing together. So an append
//! commits without it; this process then announces what it appended, coalesced: while one
//! NOTIFY is on its way, later appends wait in `pending` and leave together in the next one,
//! keeping only the newest append of each stream (every listener wants the latest version or
//! position, or just a wake-up). This process's own listeners hear of its appends directly
//! (`EventStore` sends them in-process), so a process skips its own announcements.
//!
//! If the process dies between a commit and its NOTIFY, the others still see the events on their
//! next poll (the daemon and the webhook runner poll every half second besides listening):
//! a notification only ever makes them look sooner.

use super::Appended;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use uuid::Uuid;

/// Appends per NOTIFY: about 130 bytes each, well below PostgreSQL's 8,000-byte payload limit.
const APPENDS_PER_NOTIFY: usize = 40;

/// One NOTIFY's payload.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Announcement {
    /// The announcing process, so it can skip what it already told its own listeners.
    pub origin: Uuid,
    pub appends: Vec<Appended>,
}

#[derive(Debug, Clone)]
pub(super) struct Announcer {
    origin: Uuid,
    pending: Arc<Mutex<Pending>>,
    wake: Arc<Notify>,
}

/// The newest append of each stream not announced yet, in first-appended order.
#[derive(Debug, Default)]
struct Pending {
    order: Vec<Uuid>,
    newest: HashMap<Uuid, Appended>,
}

impl Pending {
    fn add(&mut self, appended: Appended) {
        match self.newest.get_mut(&appended.stream_id) {
            Some(known) if known.version >= appended.version => {}
            Some(known) => *known = appended,
            None => {
                self.order.push(appended.stream_id);
                self.newest.insert(appended.stream_id, appended);
            }
        }
    }

    fn take(&mut self) -> Vec<Appended> {
        let mut newest = std::mem::take(&mut self.newest);
        std::mem::take(&mut self.order)
            .into_iter()
            .filter_map(|id| newest.remove(&id))
            .collect()
    }
}

impl Announcer {
    /// Starts the task that sends the announcements on `channel` through `pool`.
    pub fn start(pool: PgPool, channel: &'static str) -> Self {
        let announcer = Self {
            origin: Uuid::new_v4(),
            pending: Arc::default(),
            wake: Arc::new(Notify::new()),
        };
        tokio::spawn(announcer.clone().send_forever(pool, channel));
        announcer
    }

    /// Queues a committed append for the next announcement.
    pub fn announce(&self, appended: Appended) {
        self.lock().add(appended);
        self.wake.notify_one();
    }

    /// True for announcements this process made itself.
    pub fn is_own(&self, announcement: &Announcement) -> bool {
        announcement.origin == self.origin
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // The queue stays valid whatever a panicking holder did.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn send_forever(self, pool: PgPool, channel: &'static str) {
        loop {
            self.wake.notified().await;
            if pool.is_closed() {
                return;
            }
            let appends = self.lock().take();
            for chunk in appends.chunks(APPENDS_PER_NOTIFY) {
                let announcement = Announcement {
                    origin: self.origin,
                    appends: chunk.to_vec(),
                };
                let Ok(payload) = serde_json::to_string(&announcement) else {
                    continue;
                };
                let sent = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(channel)
                    .bind(payload)
                    .execute(&pool)
                    .await;
                if let Err(e) = sent {
                    // The others find these events on their next poll.
                    tracing::warn!(error = %e, "cannot announce appends to other processes");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn appended(stream: u128, version: i64, last_seq: i64) -> Appended {
        Appended {
            stream_id: Uuid::from_u128(stream),
            first_version: version,
            version,
            last_seq,
        }
    }

    #[test]
    fn pending_keeps_the_newest_append_of_each_stream_in_first_seen_order() {
        let mut pending = Pending::default();
        for a in [
            appended(2, 1, 10),
            appended(1, 4, 11),
            appended(2, 2, 12),
            appended(1, 3, 9), // older than what is queued: ignored
        ] {
            pending.add(a);
        }
        assert_eq!(pending.take(), vec![appended(2, 2, 12), appended(1, 4, 11)]);
        assert!(pending.take().is_empty());
    }

    #[test]
    fn a_full_announcement_fits_a_notify_payload() {
        let announcement = Announcement {
            origin: Uuid::new_v4(),
            appends: vec![appended(u128::MAX, i64::MAX, i64::MAX); APPENDS_PER_NOTIFY],
        };
        assert!(serde_json::to_string(&announcement).unwrap().len() < 8000);
    }
}
