//! Remembered match counts of board searches. Counting every match of a common term (a city
//! on a quarter of the board) reads tens of thousands of index entries, far more than the page
//! of rows it heads; so a count is kept with the membership stamp of the shipments it counted
//! (`BoardCounts::membership_stamp`) and reused while the stamp is the same, which is exactly
//! while the set it counted is unchanged. An idle board answers every repeated search from
//! here; after the daemon adds shipments (or moves them between statuses, for a status
//! filter) the next request counts afresh.

use crate::domain::ShipmentStatus;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// At most this many counts are kept; past it they are all forgotten at once (counting again
/// is what would happen without them, so the simplest eviction is good enough).
const REMEMBERED: usize = 1024;

/// One per process (in `AppState`): shared by every request.
#[derive(Clone, Default)]
pub struct SearchCounts {
    remembered: Arc<Mutex<HashMap<CountKey, Remembered>>>,
}

/// What was counted: matches of `term` among the shipments in `status` (all when None) of a
/// board table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountKey {
    pub table: String,
    pub status: Option<ShipmentStatus>,
    pub term: String,
}

#[derive(Debug, Clone, Copy)]
struct Remembered {
    stamp: i64,
    matches: i64,
}

impl SearchCounts {
    /// The count remembered for `key`, if it was counted while the membership stamp was `stamp`.
    pub fn get(&self, key: &CountKey, stamp: i64) -> Option<i64> {
        let remembered = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
        remembered
            .get(key)
            .filter(|r| r.stamp == stamp)
            .map(|r| r.matches)
    }

    pub fn remember(&self, key: CountKey, stamp: i64, matches: i64) {
        let mut remembered = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
        if remembered.len() >= REMEMBERED && !remembered.contains_key(&key) {
            remembered.clear();
        }
        remembered.insert(key, Remembered { stamp, matches });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(term: &str) -> CountKey {
        CountKey {
            table: "shipment_board_v1".into(),
            status: None,
            term: term.into(),
        }
    }

    #[test]
    fn a_count_is_reused_only_with_the_stamp_it_was_counted_at() {
        let counts = SearchCounts::default();
        counts.remember(key("rotter"), 7, 1234);
        assert_eq!(counts.get(&key("rotter"), 7), Some(1234));
        assert_eq!(counts.get(&key("rotter"), 8), None);
        assert_eq!(counts.get(&key("milan"), 7), None);
        counts.remember(key("rotter"), 8, 1240);
        assert_eq!(counts.get(&key("rotter"), 8), Some(1240));
    }

    #[test]
    fn the_memory_is_bounded() {
        let counts = SearchCounts::default();
        for i in 0..(REMEMBERED + 10) {
            counts.remember(key(&i.to_string()), 1, 1);
        }
        assert!(counts.remembered.lock().unwrap().len() <= REMEMBERED);
    }
}
