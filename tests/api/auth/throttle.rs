//! Throttled sign-in against real databases, and the housekeeping that rides on sign-ins.

use super::{addr, test_auth, with_users, ADMIN_PASSWORD, DAN_PASSWORD};
use crate::both_backends;
use freightdesk::auth::{AuthConfig, AuthError};
use sqlx::Row;
use std::time::{Duration, Instant};

both_backends!(failures_slow_down_then_lock_out, |backend| async move {
    let t = test_auth(backend, AuthConfig::default()).await;
    with_users(&t).await;
    let from = addr("192.0.2.7");
    // A success clears the name's count.
    for _ in 0..3 {
        assert!(t.auth.login("dan", "wrong password", from).await.is_err());
    }
    t.auth.login("dan", DAN_PASSWORD, from).await.unwrap();
    let left: Vec<String> = sqlx::query("SELECT key FROM login_failures WHERE failures > 0")
        .fetch_all(&t.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("key"))
        .collect();
    assert_eq!(
        left,
        ["addr:192.0.2.7"],
        "the name starts again; the address does not"
    );
    sqlx::query("DELETE FROM login_failures")
        .execute(&t.pool)
        .await
        .unwrap();

    for _ in 0..5 {
        let e = t
            .auth
            .login("dan", "wrong password", from)
            .await
            .unwrap_err();
        assert!(matches!(e, AuthError::WrongCredentials), "{e:?}");
    }
    let started = Instant::now();
    let e = t
        .auth
        .login("dan", "wrong password", from)
        .await
        .unwrap_err();
    assert!(matches!(e, AuthError::WrongCredentials), "{e:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "the sixth try waits"
    );

    // Four more in parallel (each counted separately), and an unknown name as often from
    // elsewhere: both end locked, with the same answer.
    let wrong = |name: &'static str, from| {
        let auth = t.auth.clone();
        async move { auth.login(name, "wrong password", from).await }
    };
    let (dan_tries, ()) = tokio::join!(
        futures::future::join_all((0..4).map(|_| wrong("dan", from))),
        async {
            for _ in 0..5 {
                assert!(wrong("ghost", None).await.is_err());
            }
            futures::future::join_all((0..5).map(|_| wrong("ghost", None))).await;
        }
    );
    assert!(dan_tries
        .iter()
        .all(|r| matches!(r, Err(AuthError::WrongCredentials))));
    let locked = t.auth.login("dan", DAN_PASSWORD, None).await.unwrap_err();
    let ghost = t.auth.login("ghost", DAN_PASSWORD, None).await.unwrap_err();
    match &locked {
        AuthError::Throttled { retry_after_secs } => assert!(*retry_after_secs > 14 * 60),
        other => panic!("expected a lock-out, got {other:?}"),
    }
    assert_eq!(
        locked.to_string(),
        "too many failed sign-ins; try again in 15 minutes"
    );
    assert_eq!(
        ghost.to_string(),
        locked.to_string(),
        "no hint whether the name exists"
    );
    // The address counts too: another name from it is refused as well.
    let root = t
        .auth
        .login("root", ADMIN_PASSWORD, from)
        .await
        .unwrap_err();
    assert!(matches!(root, AuthError::Throttled { .. }), "{root:?}");
    // An admin's reset lifts the name's lock.
    t.auth
        .reset_password("dan", "a fresh password")
        .await
        .unwrap();
    t.auth.login("dan", "a fresh password", None).await.unwrap();
});

both_backends!(
    sign_ins_sweep_up_expired_sessions_and_old_counters,
    |backend| async move {
        let t = test_auth(backend, AuthConfig::default()).await;
        with_users(&t).await;
        let (long_ago, yesterday) = ("2020-01-01T00:00:00.000000Z", "2020-01-02T00:00:00.000000Z");
        sqlx::query("INSERT INTO sessions VALUES ($1, 'dan', $2, $2, $3)")
            .bind("f".repeat(64))
            .bind(long_ago)
            .bind(yesterday)
            .execute(&t.pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO login_failures VALUES ('name:ghost', 3, $1, $1, NULL)")
            .bind(long_ago)
            .execute(&t.pool)
            .await
            .unwrap();
        t.auth.login("dan", DAN_PASSWORD, None).await.unwrap();
        let count = |table: &'static str| {
            let pool = t.pool.clone();
            async move {
                sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
                    .fetch_one(&pool)
                    .await
                    .unwrap()
                    .get::<i64, _>("n")
            }
        };
        assert_eq!(count("sessions").await, 1, "only the new session is left");
        assert_eq!(count("login_failures").await, 0);
    }
);
