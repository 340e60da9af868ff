//! Where the server's "now" comes from, and how often its background workers look again. In
//! production the clock is the system's; a test's clock can be moved forward (`advance`), and
//! a test sets shorter intervals so it waits tenths of seconds, not seconds. (The reader's time
//! zone is `zone.rs`.)

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The time source held by the app state and given to auth, the projection daemon and the
/// webhook runner. Cheap to clone; clones share the offset, so moving one moves them all.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// How far a test moved this clock ahead of the system's; `None` for the system clock.
    offset: Option<Arc<Mutex<TimeDelta>>>,
    pub intervals: Intervals,
}

/// How often the workers look again. Waits that nothing wakes up, so a test that shortens
/// them sees the workers act sooner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Intervals {
    /// A waiting projection version looks again, in case an append notification was missed.
    pub projection_poll: Duration,
    /// A node tells the registry it is alive.
    pub projection_heartbeat: Duration,
    /// The lag and rate shown to operators are sampled, busy or idle.
    pub projection_sample: Duration,
    /// A waiting subscription looks again (a missed notification, a resume, a retry falling
    /// due).
    pub webhook_poll: Duration,
    /// A node looks for subscriptions created or deleted elsewhere.
    pub webhook_discover: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        Self {
            projection_poll: Duration::from_millis(500),
            projection_heartbeat: Duration::from_secs(2),
            projection_sample: Duration::from_secs(5),
            webhook_poll: Duration::from_millis(500),
            webhook_discover: Duration::from_secs(1),
        }
    }
}

impl Clock {
    /// The system clock, with the production intervals.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that starts at the system's time and that `advance` moves forward.
    pub fn movable() -> Self {
        Self {
            offset: Some(Arc::new(Mutex::new(TimeDelta::zero()))),
            intervals: Intervals::default(),
        }
    }

    pub fn with_intervals(mut self, intervals: Intervals) -> Self {
        self.intervals = intervals;
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.offset {
            None => Utc::now(),
            Some(offset) => Utc::now() + *offset.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Moves a movable clock forward (time keeps running from there).
    ///
    /// # Panics
    /// On the system clock: only a test's clock moves.
    pub fn advance(&self, by: Duration) {
        let offset = self
            .offset
            .as_ref()
            .expect("only a movable clock can be advanced");
        let by = TimeDelta::from_std(by).expect("a duration chrono can add");
        *offset.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_movable_clock_moves_every_clone() {
        let clock = Clock::movable();
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(Duration::from_secs(3600));
        let moved = copy.now() - before;
        assert!(moved >= TimeDelta::hours(1), "{moved}");
        assert!(
            moved < TimeDelta::hours(1) + TimeDelta::minutes(1),
            "{moved}"
        );
    }

    #[test]
    fn the_system_clock_is_the_systems() {
        let drift = Clock::system().now() - Utc::now();
        assert!(drift.abs() < TimeDelta::seconds(1));
    }

    #[test]
    #[should_panic(expected = "only a movable clock")]
    fn the_system_clock_does_not_move() {
        Clock::system().advance(Duration::from_secs(1));
    }
}
