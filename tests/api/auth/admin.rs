//! User administration and own passwords: who loses their sessions, and the last admin.

use super::{test_auth, with_users, ADMIN_PASSWORD, DAN_PASSWORD};
use crate::both_backends;
use freightdesk::auth::{AuthConfig, AuthError, Role};

both_backends!(disabling_ends_sessions_and_sign_in, |backend| async move {
    let t = test_auth(backend, AuthConfig::default()).await;
    with_users(&t).await;
    let (_, one) = t.auth.login("dan", DAN_PASSWORD, None).await.unwrap();
    let (_, two) = t.auth.login("dan", DAN_PASSWORD, None).await.unwrap();
    t.auth.disable_user("dan").await.unwrap();
    t.auth
        .disable_user("dan")
        .await
        .expect("disabling twice is harmless");
    assert_eq!(t.auth.resolve_session(&one).await.unwrap(), None);
    assert_eq!(t.auth.resolve_session(&two).await.unwrap(), None);
    let e = t.auth.login("dan", DAN_PASSWORD, None).await.unwrap_err();
    assert!(matches!(e, AuthError::WrongCredentials), "{e:?}");
    let listed = t.auth.list_users().await.unwrap();
    assert!(listed
        .iter()
        .any(|u| u.name == "dan" && u.disabled_at.is_some()));
    let e = t.auth.disable_user("nobody").await.unwrap_err();
    assert!(matches!(e, AuthError::NotFound), "{e:?}");

    // Reversible: enabled again, dan signs in with the password he had (twice is harmless).
    t.auth.enable_user("dan").await.unwrap();
    t.auth
        .enable_user("dan")
        .await
        .expect("enabling twice is harmless");
    t.auth.login("dan", DAN_PASSWORD, None).await.unwrap();
    assert!(t
        .auth
        .list_users()
        .await
        .unwrap()
        .iter()
        .any(|u| u.name == "dan" && u.disabled_at.is_none()));
    let e = t.auth.enable_user("nobody").await.unwrap_err();
    assert!(matches!(e, AuthError::NotFound), "{e:?}");
});

both_backends!(
    a_password_change_ends_the_other_sessions,
    |backend| async move {
        let t = test_auth(backend, AuthConfig::default()).await;
        with_users(&t).await;
        let (dan, here) = t.auth.login("dan", DAN_PASSWORD, None).await.unwrap();
        let (_, elsewhere) = t.auth.login("dan", DAN_PASSWORD, None).await.unwrap();
        let e = t
            .auth
            .change_own_password(&dan, "not it", "a new password", &here)
            .await
            .unwrap_err();
        assert!(matches!(&e, AuthError::Invalid { field, .. } if field == "current_password"));
        let e = t
            .auth
            .change_own_password(&dan, DAN_PASSWORD, "short", &here)
            .await
            .unwrap_err();
        assert!(matches!(&e, AuthError::Invalid { field, .. } if field == "new_password"));
        t.auth
            .change_own_password(&dan, DAN_PASSWORD, "a new password", &here)
            .await
            .unwrap();
        assert!(
            t.auth.resolve_session(&here).await.unwrap().is_some(),
            "this one stays"
        );
        assert_eq!(t.auth.resolve_session(&elsewhere).await.unwrap(), None);
        assert!(t.auth.login("dan", DAN_PASSWORD, None).await.is_err());
        let (_, fresh) = t.auth.login("dan", "a new password", None).await.unwrap();
        // An admin's reset ends every session.
        t.auth.reset_password("dan", "reset by root").await.unwrap();
        assert_eq!(t.auth.resolve_session(&here).await.unwrap(), None);
        assert_eq!(t.auth.resolve_session(&fresh).await.unwrap(), None);
        t.auth.login("dan", "reset by root", None).await.unwrap();
    }
);

both_backends!(the_last_admin_stays, |backend| async move {
    let t = test_auth(backend, AuthConfig::default()).await;
    with_users(&t).await;
    let refused = |r: Result<(), AuthError>| matches!(r, Err(AuthError::Refused(_)));
    assert!(refused(t.auth.disable_user("root").await));
    assert!(refused(t.auth.change_role("root", Role::Dispatcher).await));
    t.auth.change_role("dan", Role::Admin).await.unwrap();
    t.auth.change_role("root", Role::Dispatcher).await.unwrap();
    assert!(
        refused(t.auth.disable_user("dan").await),
        "dan is the last admin now"
    );
    t.auth.change_role("root", Role::Admin).await.unwrap();
    t.auth.disable_user("dan").await.unwrap();
    // A disabled admin does not count.
    assert!(refused(t.auth.change_role("root", Role::Dispatcher).await));
    let (root, _) = t.auth.login("root", ADMIN_PASSWORD, None).await.unwrap();
    assert_eq!(root.role, Role::Admin);
    let e = t.auth.change_role("nobody", Role::Admin).await.unwrap_err();
    assert!(matches!(e, AuthError::NotFound), "{e:?}");
});

both_backends!(
    two_admins_demoting_each_other_at_once_leave_one,
    |backend| async move {
        let t = test_auth(backend, AuthConfig::default()).await;
        with_users(&t).await;
        t.auth.change_role("dan", Role::Admin).await.unwrap();
        for _ in 0..3 {
            let (a, b) = tokio::join!(
                t.auth.change_role("root", Role::Dispatcher),
                t.auth.change_role("dan", Role::Dispatcher)
            );
            assert!(
                matches!(
                    (&a, &b),
                    (Ok(()), Err(AuthError::Refused(_))) | (Err(AuthError::Refused(_)), Ok(()))
                ),
                "{a:?} {b:?}"
            );
            let admins = t.auth.list_users().await.unwrap();
            assert_eq!(admins.iter().filter(|u| u.role == Role::Admin).count(), 1);
            t.auth.change_role("root", Role::Admin).await.unwrap();
            t.auth.change_role("dan", Role::Admin).await.unwrap();
        }
    }
);
