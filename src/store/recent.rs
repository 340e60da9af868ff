//! A per-process cache of the states this process stored last.

use super::Snapshot;
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// The states this process wrote last, per stream: a command on a stream this process just
/// wrote needs no read before its write. A stale entry is harmless: the append's version check
/// refuses it, and the caller reloads from the database.
#[derive(Debug, Default)]
pub(super) struct RecentStates(Mutex<HashMap<Uuid, Snapshot>>);

/// Entries kept before the cache starts over: bounds its memory, not its correctness.
const RECENT_STATES_CAPACITY: usize = 50_000;

impl RecentStates {
    pub(super) fn get(&self, stream_id: Uuid) -> Option<Snapshot> {
        self.lock().get(&stream_id).cloned()
    }

    pub(super) fn put(&self, stream_id: Uuid, snapshot: Snapshot) {
        let mut map = self.lock();
        if map.len() >= RECENT_STATES_CAPACITY && !map.contains_key(&stream_id) {
            map.clear();
        }
        map.insert(stream_id, snapshot);
    }

    pub(super) fn forget(&self, stream_id: Uuid) {
        self.lock().remove(&stream_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Snapshot>> {
        // A panic while holding the lock leaves a map that is still a valid cache.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
