//! What happens after one delivery attempt: a pure function of its outcome, the attempts made
//! and the policy, so the rules are tested here and the sender only carries them out.

use std::time::Duration;

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The receiver answered with this status code.
    Status(u16),
    /// No answer within the timeout.
    Timeout,
    /// The connection could not be made or broke (DNS, refused, reset, TLS).
    Connection,
    /// The target is not allowed (e.g. it resolves to a private address): no request was sent.
    Blocked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    RetryAfter(Duration),
    DeadLetter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt; it doubles with each further one.
    pub base: Duration,
    /// No wait is longer than this.
    pub cap: Duration,
    /// Attempts in all, the first included; after the last failed one the delivery is dead.
    pub max_attempts: u32,
}

impl AttemptOutcome {
    /// Worth trying again: the receiver or the network may recover. A 4xx other than 408
    /// (timeout) and 429 (slow down) says the request itself is refused, and a redirect is
    /// never followed, so those are final.
    pub fn is_retryable(self) -> bool {
        match self {
            AttemptOutcome::Status(code) => code == 408 || code == 429 || code >= 500,
            AttemptOutcome::Timeout | AttemptOutcome::Connection => true,
            AttemptOutcome::Blocked => false,
        }
    }
}

/// `attempts` counts the attempts made so far, this one included; `jitter` is a random
/// number in [0, 1) so that many failed deliveries do not all come back at the same instant.
pub fn judge(outcome: AttemptOutcome, attempts: u32, policy: RetryPolicy, jitter: f64) -> Verdict {
    match outcome {
        AttemptOutcome::Status(200..=299) => Verdict::Delivered,
        _ if !outcome.is_retryable() || attempts >= policy.max_attempts => Verdict::DeadLetter,
        _ => Verdict::RetryAfter(backoff(attempts, policy, jitter)),
    }
}

/// Exponential backoff with "equal jitter": half the delay is fixed, half is random.
fn backoff(attempts: u32, policy: RetryPolicy, jitter: f64) -> Duration {
    let doublings = attempts.saturating_sub(1).min(30);
    let full = policy
        .base
        .saturating_mul(1u32 << doublings)
        .min(policy.cap);
    let jitter = jitter.clamp(0.0, 1.0);
    full / 2 + full.mul_f64(jitter / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttemptOutcome::*;

    const POLICY: RetryPolicy = RetryPolicy {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(60),
        max_attempts: 5,
    };

    fn secs(s: f64) -> Verdict {
        Verdict::RetryAfter(Duration::from_secs_f64(s))
    }

    #[test]
    fn outcomes_are_judged_by_the_table() {
        let table = [
            // (outcome, attempts so far, jitter, verdict)
            (Status(200), 1, 0.0, Verdict::Delivered),
            (Status(204), 5, 0.0, Verdict::Delivered),
            (Status(500), 1, 0.0, secs(0.5)),
            (Status(503), 2, 0.0, secs(1.0)),
            (Status(502), 3, 1.0, secs(4.0)),
            (Status(408), 1, 0.5, secs(0.75)),
            (Status(429), 4, 0.0, secs(4.0)),
            (Timeout, 1, 0.0, secs(0.5)),
            (Connection, 2, 0.0, secs(1.0)),
            // The last attempt failed: dead, whatever the reason.
            (Status(500), 5, 0.0, Verdict::DeadLetter),
            (Timeout, 5, 0.0, Verdict::DeadLetter),
            // Refused by the receiver, a redirect, or a target we may not call: dead at once.
            (Status(400), 1, 0.0, Verdict::DeadLetter),
            (Status(401), 1, 0.0, Verdict::DeadLetter),
            (Status(404), 1, 0.0, Verdict::DeadLetter),
            (Status(410), 1, 0.0, Verdict::DeadLetter),
            (Status(301), 1, 0.0, Verdict::DeadLetter),
            (Status(302), 1, 0.0, Verdict::DeadLetter),
            (Status(100), 1, 0.0, Verdict::DeadLetter),
            (Blocked, 1, 0.0, Verdict::DeadLetter),
        ];
        for (outcome, attempts, jitter, expected) in table {
            assert_eq!(
                judge(outcome, attempts, POLICY, jitter),
                expected,
                "{outcome:?} after {attempts} attempts, jitter {jitter}"
            );
        }
    }

    #[test]
    fn waits_never_exceed_the_cap_nor_overflow() {
        let policy = RetryPolicy {
            max_attempts: u32::MAX,
            ..POLICY
        };
        for attempts in [10, 31, 32, 1000, u32::MAX - 1] {
            let Verdict::RetryAfter(wait) = judge(Timeout, attempts, policy, 0.999_999) else {
                panic!("a retry after {attempts} attempts");
            };
            assert!(
                wait > Duration::from_secs(59) && wait <= policy.cap,
                "after {attempts} attempts: {wait:?}"
            );
        }
    }

    #[test]
    fn waits_grow_with_each_attempt() {
        let policy = RetryPolicy {
            max_attempts: 20,
            ..POLICY
        };
        let waits: Vec<Verdict> = (1..=7)
            .map(|n| judge(Status(500), n, policy, 0.0))
            .collect();
        assert_eq!(
            waits,
            [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0].map(secs).to_vec()
        );
    }
}
