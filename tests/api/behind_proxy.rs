//! Behind a reverse proxy: `X-Forwarded-For` is believed only from the proxies named in
//! `FREIGHTDESK_TRUSTED_PROXIES`. Without it, every client behind one proxy shares the proxy's
//! address, so ten bad passwords from anyone refuse everyone; with it, only the guesser is
//! refused, and a client cannot choose its own address by writing the header.

use crate::helpers::{spawn_app, spawn_app_with, Dialect, TestApp, ADMIN, DISPATCHER};
use freightdesk::auth::TrustedProxies;

const GUESSER: &str = "203.0.113.66";
const BYSTANDER: &str = "198.51.100.7";

/// A sign-in through the proxy on behalf of `forwarded_for`.
async fn sign_in(
    app: &TestApp,
    forwarded_for: &str,
    name: &str,
    password: &str,
) -> reqwest::Response {
    app.anonymous()
        .post(format!("{}/api/auth/login", app.address))
        .header("Accept", "application/json")
        .header("X-Forwarded-For", forwarded_for)
        .form(&[("name", name), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// Ten wrong passwords at once from the guesser, each for a different unknown name, so only
/// the address's counter reaches the lock.
async fn ten_bad_passwords(app: &TestApp, forwarded_for: &str) {
    let tries = (0..10).map(|i| {
        let name = format!("nobody{i}");
        async move {
            sign_in(app, forwarded_for, &name, "wrong wrong wrong")
                .await
                .status()
        }
    });
    for status in futures::future::join_all(tries).await {
        assert_eq!(status, 401);
    }
}

/// The addresses with failures counted against them (a success leaves a zero behind).
async fn counted_addresses(app: &TestApp) -> Vec<String> {
    let mut keys: Vec<String> = sqlx::query_scalar(
        "SELECT key FROM login_failures WHERE key LIKE 'addr:%' AND failures > 0",
    )
    .fetch_all(app.projections.read())
    .await
    .unwrap();
    keys.sort();
    keys
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_for_is_ignored_and_everyone_shares_an_address() {
    let app = spawn_app(Dialect::Postgres).await;
    ten_bad_passwords(&app, GUESSER).await;
    assert_eq!(counted_addresses(&app).await, ["addr:127.0.0.1"]);

    let bystander = sign_in(&app, BYSTANDER, DISPATCHER.0, DISPATCHER.2).await;
    assert_eq!(bystander.status(), 401);
    assert!(
        bystander
            .text()
            .await
            .unwrap()
            .contains("too many failed sign-ins"),
        "the proxy's one address is locked for everyone behind it"
    );
}

#[tokio::test]
async fn a_trusted_proxys_forwarded_for_is_believed() {
    let app = spawn_app_with(Dialect::Postgres, |config| {
        config.http.trusted_proxies = TrustedProxies::parse("127.0.0.1/32, ::1").unwrap();
    })
    .await;
    // The guesser writes an address of its own first; the proxy appends the real one.
    ten_bad_passwords(&app, &format!("192.0.2.1, {GUESSER}")).await;
    assert_eq!(
        counted_addresses(&app).await,
        [format!("addr:{GUESSER}")],
        "counted against the client the proxy saw, not the proxy or the spoofed entry"
    );

    let bystander = sign_in(&app, BYSTANDER, DISPATCHER.0, DISPATCHER.2).await;
    assert_eq!(
        bystander.status(),
        200,
        "others behind the proxy still sign in"
    );
    let guesser = sign_in(&app, GUESSER, ADMIN.0, ADMIN.2).await;
    assert_eq!(guesser.status(), 401);
    assert!(guesser
        .text()
        .await
        .unwrap()
        .contains("too many failed sign-ins"));
}
