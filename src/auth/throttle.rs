//! Slowing down password guessing. Failures are counted per name and per client address; from
//! the fifth failure each further try waits longer, and after ten the key is refused for a
//! while. The rule is a pure function; the counters live in `login_failures`.
//!
//! A try is counted when it starts and taken back when it succeeds, so guesses sent in
//! parallel each see a higher count instead of all passing under the same one.

use crate::db::{decode_time as parse_time, time_text, PortableDb, Tx};
use chrono::{DateTime, TimeDelta, Utc};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row};
use std::time::Duration;

/// Failures that cost nothing: typos happen.
pub const FREE_FAILURES: i64 = 4;
/// From this many failures on, a key is locked.
pub const LOCK_AFTER: i64 = 10;
/// How long a locked key is refused.
pub const LOCK_FOR: TimeDelta = TimeDelta::minutes(15);
/// A key with no failure for this long (and no lock) starts again from zero.
pub const FORGET_AFTER: TimeDelta = TimeDelta::minutes(15);
const FIRST_DELAY: Duration = Duration::from_millis(500);
const MAX_DELAY: Duration = Duration::from_secs(8);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    Allow,
    /// Let the try go ahead after waiting this long.
    Delay(Duration),
    /// Do not even check the password.
    Refuse {
        until: DateTime<Utc>,
    },
}

/// What to do with a try, given the failures counted before it and any lock.
pub fn decide(failures: i64, locked_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Throttle {
    if let Some(until) = locked_until.filter(|until| *until > now) {
        return Throttle::Refuse { until };
    }
    if failures <= FREE_FAILURES {
        return Throttle::Allow;
    }
    // 5 → 0.5 s, 6 → 1 s, 7 → 2 s, 8 → 4 s, then 8 s (also for the one try after a lock).
    let doublings = u32::try_from(failures - FREE_FAILURES - 1).unwrap_or(u32::MAX);
    let delay = FIRST_DELAY
        .checked_mul(2u32.saturating_pow(doublings.min(8)))
        .unwrap_or(MAX_DELAY);
    Throttle::Delay(delay.min(MAX_DELAY))
}

/// The answer that holds back more.
pub fn stricter(a: Throttle, b: Throttle) -> Throttle {
    use Throttle::*;
    match (a, b) {
        (Refuse { until: x }, Refuse { until: y }) => Refuse { until: x.max(y) },
        (r @ Refuse { .. }, _) | (_, r @ Refuse { .. }) => r,
        (Delay(x), Delay(y)) => Delay(x.max(y)),
        (d @ Delay(_), _) | (_, d @ Delay(_)) => d,
        (Allow, Allow) => Allow,
    }
}

/// The counter key for a sign-in name (as typed, lowercased).
pub fn name_key(name: &str) -> String {
    format!("name:{}", name.trim().to_lowercase())
}

/// The counter key for a client address.
pub fn addr_key(addr: std::net::IpAddr) -> String {
    format!("addr:{addr}")
}

/// Counts a try against each key and answers for the strictest of them.
#[tracing::instrument(skip(db, keys))]
pub(crate) async fn begin_attempt(
    db: &PortableDb,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<Throttle, sqlx::Error> {
    let mut answer = Throttle::Allow;
    let mut tx = db.begin().await?;
    for key in keys {
        let (failures, locked_until) = count_attempt(&mut tx, key, now).await?;
        answer = stricter(answer, decide(failures - 1, locked_until, now));
    }
    tx.commit().await?;
    Ok(answer)
}

async fn count_attempt(
    tx: &mut Tx,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    const FORGOTTEN: &str = "(login_failures.last_failed_at < $3 \
         AND (login_failures.locked_until IS NULL OR login_failures.locked_until <= $2))";
    let sql = format!(
        "INSERT INTO login_failures (key, failures, first_failed_at, last_failed_at) \
         VALUES ($1, 1, $2, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN {FORGOTTEN} THEN 1 ELSE login_failures.failures + 1 END, \
           first_failed_at = CASE WHEN {FORGOTTEN} THEN $2 ELSE login_failures.first_failed_at END, \
           last_failed_at = $2 \
         RETURNING failures, locked_until"
    );
    let row = sqlx::query(&sql)
        .bind(key)
        .bind(time_text(now))
        .bind(time_text(now - FORGET_AFTER))
        .fetch_one(&mut **tx)
        .await?;
    let failures: i64 = row.try_get("failures")?;
    let locked_until = row
        .try_get::<Option<String>, _>("locked_until")?
        .map(|t| parse_time(&t))
        .transpose()?;
    Ok((failures, locked_until))
}

/// The try failed: it stays counted, and a key that reached the limit is locked.
#[tracing::instrument(skip(db, keys))]
pub(crate) async fn record_failure(
    db: &PortableDb,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    for key in keys {
        sqlx::query(
            "UPDATE login_failures SET locked_until = $1 \
             WHERE key = $2 AND failures >= $3 AND (locked_until IS NULL OR locked_until < $4)",
        )
        .bind(time_text(now + LOCK_FOR))
        .bind(key)
        .bind(LOCK_AFTER)
        .bind(time_text(now))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// The try succeeded: the name starts again from zero, and the address's count of this try is
/// taken back (others may be guessing from the same address).
#[tracing::instrument(skip(db, name_key, addr_key))]
pub(crate) async fn record_success(
    db: &PortableDb,
    name_key: &str,
    addr_key: Option<&str>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    clear_query(name_key).execute(&mut *tx).await?;
    if let Some(addr_key) = addr_key {
        sqlx::query(
            "UPDATE login_failures SET failures = failures - 1 WHERE key = $1 AND failures > 0",
        )
        .bind(addr_key)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Forgets counters that no longer hold anything back, so names made up by a guesser do not
/// pile up.
#[tracing::instrument(skip(db))]
pub(crate) async fn purge_stale(db: &PortableDb, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let done = db
        .execute(
            sqlx::query(
                "DELETE FROM login_failures WHERE last_failed_at < $1 \
                 AND (locked_until IS NULL OR locked_until < $2)",
            )
            .bind(time_text(now - FORGET_AFTER))
            .bind(time_text(now)),
        )
        .await?;
    Ok(done.rows_affected())
}

/// Forgets a key's failures and lock (after a successful sign-in or a password reset).
pub(crate) async fn clear(db: &PortableDb, key: &str) -> Result<(), sqlx::Error> {
    db.execute(clear_query(key)).await?;
    Ok(())
}

fn clear_query(key: &str) -> Query<'_, Any, AnyArguments<'_>> {
    sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Throttle {
        Throttle::Delay(Duration::from_millis(n))
    }

    #[test]
    fn the_rule() {
        let now = Utc::now();
        let later = now + TimeDelta::minutes(3);
        let earlier = now - TimeDelta::seconds(1);
        let cases: &[(i64, Option<DateTime<Utc>>, Throttle)] = &[
            (0, None, Throttle::Allow),
            (4, None, Throttle::Allow),
            (5, None, ms(500)),
            (6, None, ms(1000)),
            (7, None, ms(2000)),
            (8, None, ms(4000)),
            (9, None, ms(8000)),
            (50, None, ms(8000)),
            (i64::MAX, None, ms(8000)),
            (10, Some(later), Throttle::Refuse { until: later }),
            // A lock holds whatever the count says.
            (0, Some(later), Throttle::Refuse { until: later }),
            // After the lock: one slow try; a failure locks again.
            (10, Some(earlier), ms(8000)),
            (2, Some(earlier), Throttle::Allow),
        ];
        for (failures, locked_until, expected) in cases {
            assert_eq!(
                decide(*failures, *locked_until, now),
                *expected,
                "failures {failures}, locked until {locked_until:?}"
            );
        }
    }

    #[test]
    fn the_stricter_answer_wins() {
        let now = Utc::now();
        let soon = Throttle::Refuse { until: now };
        let late = Throttle::Refuse {
            until: now + LOCK_FOR,
        };
        let cases = [
            (Throttle::Allow, Throttle::Allow, Throttle::Allow),
            (Throttle::Allow, ms(500), ms(500)),
            (ms(2000), ms(500), ms(2000)),
            (ms(2000), soon, soon),
            (late, Throttle::Allow, late),
            (soon, late, late),
        ];
        for (a, b, expected) in cases {
            assert_eq!(stricter(a, b), expected, "{a:?} vs {b:?}");
            assert_eq!(stricter(b, a), expected, "{b:?} vs {a:?}");
        }
    }

    #[test]
    fn keys_name_what_they_count() {
        assert_eq!(name_key(" Ana "), "name:ana");
        assert_eq!(addr_key("10.0.0.7".parse().unwrap()), "addr:10.0.0.7");
    }
}
