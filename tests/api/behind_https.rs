//! Behind HTTPS (`--secure-cookies`): every cookie the server sets is `Secure` (the session,
//! its clearing, and `fd_seen`), and every response carries `Strict-Transport-Security`.
//! Without the setting neither happens (plain HTTP on a laptop must keep working).

use crate::helpers::{spawn_app, spawn_app_with, Dialect, TestApp, DISPATCHER};
use reqwest::header::{COOKIE, SET_COOKIE, STRICT_TRANSPORT_SECURITY};

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("a cookie is text").to_string())
        .collect()
}

fn is_secure(cookie: &str) -> bool {
    cookie
        .split(';')
        .skip(1)
        .any(|attribute| attribute.trim() == "Secure")
}

/// A client without a cookie jar (a jar would not send `Secure` cookies over plain HTTP):
/// the cookies are carried by hand, as the browser behind the TLS proxy would; with `session`,
/// that cookie goes with every request.
fn bare_client(app: &TestApp, session: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ORIGIN,
        reqwest::header::HeaderValue::from_str(&app.address).unwrap(),
    );
    if let Some(session) = session {
        headers.insert(COOKIE, session.parse().unwrap());
    }
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

#[tokio::test]
async fn with_secure_cookies_every_cookie_is_secure_and_hsts_is_sent() {
    let app = spawn_app_with(Dialect::Sqlite, |config| config.auth.secure_cookies = true).await;
    let client = bare_client(&app, None);

    let health = client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        health.headers().get(STRICT_TRANSPORT_SECURITY).unwrap(),
        "max-age=31536000"
    );

    let (name, _, password) = DISPATCHER;
    let login = client
        .post(format!("{}/api/auth/login", app.address))
        .header("Accept", "application/json")
        .form(&[("name", name), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    assert!(login.headers().contains_key(STRICT_TRANSPORT_SECURITY));
    let session = set_cookies(&login);
    assert_eq!(session.len(), 1, "{session:?}");
    assert!(is_secure(&session[0]), "{session:?}");
    let session = session[0].split(';').next().unwrap().to_string();

    let after_command = app
        .schedule_as(&bare_client(&app, Some(&session)), "Lisbon")
        .await
        .set_cookie;
    let seen: Vec<&String> = after_command
        .iter()
        .filter(|c| c.starts_with("fd_seen="))
        .collect();
    assert_eq!(seen.len(), 1, "{after_command:?}");
    assert!(
        after_command.iter().all(|c| is_secure(c)),
        "{after_command:?}"
    );

    // A dead session's cookie is cleared on a page load, and the clearing cookie is Secure too.
    let stale = format!("freightdesk_session={}", "ab".repeat(32));
    let page = client
        .get(format!("{}/login", app.address))
        .header(COOKIE, &stale)
        .send()
        .await
        .unwrap();
    let cleared = set_cookies(&page);
    assert!(!cleared.is_empty(), "the stale cookie is cleared");
    assert!(cleared.iter().all(|c| is_secure(c)), "{cleared:?}");
    assert!(page.headers().contains_key(STRICT_TRANSPORT_SECURITY));

    let logout = client
        .post(format!("{}/api/auth/logout", app.address))
        .header("Accept", "application/json")
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    let cleared = set_cookies(&logout);
    assert!(!cleared.is_empty(), "signing out clears the cookie");
    assert!(cleared.iter().all(|c| is_secure(c)), "{cleared:?}");
}

#[tokio::test]
async fn without_secure_cookies_plain_http_keeps_working() {
    let app = spawn_app(Dialect::Sqlite).await;
    let client = bare_client(&app, None);
    let login = client
        .post(format!("{}/api/auth/login", app.address))
        .header("Accept", "application/json")
        .form(&[("name", DISPATCHER.0), ("password", DISPATCHER.2)])
        .send()
        .await
        .unwrap();
    assert!(!login.headers().contains_key(STRICT_TRANSPORT_SECURITY));
    let session = set_cookies(&login);
    assert!(!is_secure(&session[0]), "{session:?}");
    let session = session[0].split(';').next().unwrap().to_string();
    let after_command = app
        .schedule_as(&bare_client(&app, Some(&session)), "Lisbon")
        .await
        .set_cookie;
    assert!(
        after_command
            .iter()
            .any(|c| c.starts_with("fd_seen=") && !is_secure(c)),
        "{after_command:?}"
    );
}
