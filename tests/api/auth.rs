//! The auth service against real databases: set-up, sign-in, throttling, sessions and the
//! rules of user administration. The HTTP layers are in `auth/middleware.rs`.

mod admin;
mod middleware;
mod throttle;

use crate::both_backends;
use crate::helpers::{fresh_database_url, Dialect};
use freightdesk::auth::{Auth, AuthConfig, AuthError, CurrentUser, Role};
use freightdesk::db::PortableDb;
use freightdesk::store::EventStore;
use freightdesk::time::Clock;
use sqlx::{AnyPool, Row};
use std::net::IpAddr;
use std::time::Duration;

pub const ADMIN_PASSWORD: &str = "correct horse battery";
pub const DAN_PASSWORD: &str = "dispatch all day";

pub struct TestAuth {
    pub auth: Auth,
    /// The auth service's "now": a test moves it to age sessions.
    pub clock: Clock,
    pub db: PortableDb,
    pub pool: AnyPool,
    _store: EventStore,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh database with the event store's migrations (which include the auth tables).
pub async fn test_auth(backend: Dialect, config: AuthConfig) -> TestAuth {
    let (url, dir) = fresh_database_url(backend).await;
    let freightdesk::database::Database { store, db } = crate::helpers::open(&url).await;
    // The tests look at the tables directly, beside the application's own pools.
    let pool = AnyPool::connect(&url)
        .await
        .expect("a pool of the test's own");
    let clock = Clock::movable();
    TestAuth {
        auth: Auth::new(db.clone(), config).with_clock(clock.clone()),
        clock,
        db,
        pool,
        _store: store,
        _dir: dir,
    }
}

/// Creates the first admin `root` through the set-up flow, and the dispatcher `dan`.
pub async fn with_users(t: &TestAuth) {
    let token = t.auth.setup_token_if_no_users().await.unwrap().unwrap();
    t.auth
        .complete_setup(&token, "root", "Rita Root", ADMIN_PASSWORD)
        .await
        .unwrap();
    t.auth
        .add_user("dan", "Dan Dispatcher", Role::Dispatcher, DAN_PASSWORD)
        .await
        .unwrap();
}

pub fn addr(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

both_backends!(
    setup_token_only_while_no_users_and_once,
    |backend| async move {
        let t = test_auth(backend, AuthConfig::default()).await;
        let token = t.auth.setup_token_if_no_users().await.unwrap().unwrap();
        let again = t.auth.setup_token_if_no_users().await.unwrap().unwrap();
        assert_eq!(token, again, "one token until it is used");
        let wrong = t
            .auth
            .complete_setup("nope", "root", "Rita", ADMIN_PASSWORD)
            .await;
        assert!(
            matches!(wrong, Err(AuthError::SetupUnavailable)),
            "{wrong:?}"
        );
        let weak = t.auth.complete_setup(&token, "root", "Rita", "root").await;
        assert!(
            matches!(&weak, Err(AuthError::Invalid { field, .. }) if field == "password"),
            "{weak:?}"
        );
        let admin = t
            .auth
            .complete_setup(&token, " Root ", "Rita Root", ADMIN_PASSWORD)
            .await
            .expect("bad input does not use the token up");
        assert_eq!(admin.name, "root");
        assert_eq!(admin.role, Role::Admin);
        let twice = t
            .auth
            .complete_setup(&token, "eve", "Eve", ADMIN_PASSWORD)
            .await;
        assert!(
            matches!(twice, Err(AuthError::SetupUnavailable)),
            "{twice:?}"
        );
        assert_eq!(t.auth.setup_token_if_no_users().await.unwrap(), None);
        let (user, _) = t.auth.login("root", ADMIN_PASSWORD, None).await.unwrap();
        assert_eq!(user, admin);
    }
);

both_backends!(an_added_user_signs_in_and_is_listed, |backend| async move {
    let t = test_auth(backend, AuthConfig::default()).await;
    with_users(&t).await;
    let (dan, token) = t
        .auth
        .login("Dan", DAN_PASSWORD, addr("10.0.0.1"))
        .await
        .unwrap();
    let expected = CurrentUser {
        name: "dan".into(),
        display_name: "Dan Dispatcher".into(),
        role: Role::Dispatcher,
    };
    assert_eq!(dan, expected);
    assert_eq!(
        t.auth.resolve_session(&token).await.unwrap(),
        Some(expected)
    );
    let taken = t
        .auth
        .add_user("DAN", "Other Dan", Role::Admin, "another password")
        .await;
    assert!(matches!(&taken, Err(AuthError::Invalid { field, .. }) if field == "name"));
    let names: Vec<_> = t
        .auth
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.name, u.role))
        .collect();
    assert_eq!(
        names,
        [
            ("dan".into(), Role::Dispatcher),
            ("root".into(), Role::Admin)
        ]
    );
    // Only a hash of the token is stored.
    let stored: Vec<String> = sqlx::query("SELECT id_hash FROM sessions")
        .fetch_all(&t.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("id_hash"))
        .collect();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);
});

both_backends!(
    unknown_names_and_wrong_passwords_look_the_same,
    |backend| async move {
        let t = test_auth(backend, AuthConfig::default()).await;
        with_users(&t).await;
        let wrong = t
            .auth
            .login("dan", "not the password", None)
            .await
            .unwrap_err();
        let unknown = t
            .auth
            .login("nobody", DAN_PASSWORD, None)
            .await
            .unwrap_err();
        let malformed = t
            .auth
            .login("no body!", DAN_PASSWORD, None)
            .await
            .unwrap_err();
        for e in [&wrong, &unknown, &malformed] {
            assert!(matches!(e, AuthError::WrongCredentials), "{e:?}");
            assert_eq!(e.to_string(), "name or password is wrong");
        }
    }
);

both_backends!(sessions_resolve_until_logout, |backend| async move {
    let t = test_auth(backend, AuthConfig::default()).await;
    with_users(&t).await;
    let (_, token) = t.auth.login("dan", DAN_PASSWORD, None).await.unwrap();
    assert!(t.auth.resolve_session(&token).await.unwrap().is_some());
    assert_eq!(t.auth.resolve_session(&"0".repeat(64)).await.unwrap(), None);
    assert_eq!(t.auth.resolve_session("garbage").await.unwrap(), None);
    t.auth.logout(&token).await.unwrap();
    assert_eq!(t.auth.resolve_session(&token).await.unwrap(), None);
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM sessions")
        .fetch_one(&t.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(n, 0, "signing out deletes the session");
});

both_backends!(idle_and_old_sessions_expire, |backend| async move {
    let idle = AuthConfig {
        idle: Duration::from_secs(30 * 60),
        ..AuthConfig::default()
    };
    let t = test_auth(backend, idle).await;
    with_users(&t).await;
    let (_, token) = t.auth.login("dan", DAN_PASSWORD, None).await.unwrap();
    t.clock.advance(Duration::from_secs(29 * 60));
    assert!(
        t.auth.resolve_session(&token).await.unwrap().is_some(),
        "not idle long enough yet"
    );
    // The look just now was a use: the session stays for another idle span from there.
    t.clock.advance(Duration::from_secs(29 * 60));
    assert!(t.auth.resolve_session(&token).await.unwrap().is_some());
    t.clock.advance(Duration::from_secs(31 * 60));
    assert_eq!(
        t.auth.resolve_session(&token).await.unwrap(),
        None,
        "idle too long"
    );

    let short = Auth::new(
        t.db.clone(),
        AuthConfig {
            absolute: Duration::from_secs(8 * 3600),
            ..AuthConfig::default()
        },
    )
    .with_clock(t.clock.clone());
    let (_, token) = short.login("dan", DAN_PASSWORD, None).await.unwrap();
    // Used every half hour, it still ends when it is older than its absolute lifetime.
    for _ in 0..15 {
        t.clock.advance(Duration::from_secs(30 * 60));
        assert!(short.resolve_session(&token).await.unwrap().is_some());
    }
    t.clock.advance(Duration::from_secs(31 * 60));
    assert_eq!(
        short.resolve_session(&token).await.unwrap(),
        None,
        "too old"
    );
});
