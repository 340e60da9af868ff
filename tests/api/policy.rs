//! Every entry point and the role it needs: server functions (from the registry the server
//! itself uses), pages (from the router's own route list) and the plain routes. A new entry
//! point without a line here, or without a policy entry, fails this test. Each line is also
//! tried over HTTP as nobody, as a dispatcher and as an admin.

use crate::helpers::{spawn_app, Dialect, TestApp, DISPATCHER, METRICS_TOKEN};
use freightdesk::auth::{access_for, entry_for, Access, Role, POLICY};
use reqwest::{Client, StatusCode};
use std::collections::BTreeMap;

const D: Access = Access::Role(Role::Dispatcher);
const A: Access = Access::Role(Role::Admin);

/// What each entry point needs, written down independently of the policy table.
const EXPECTED: &[(&str, Access)] = &[
    ("/api/shipments/schedule", D),
    ("/api/shipments/pick-up", D),
    ("/api/shipments/record-location", D),
    ("/api/shipments/deliver", D),
    ("/api/shipments/cancel", D),
    ("/api/shipments/get", Access::SignedIn),
    ("/api/shipments/board", Access::SignedIn),
    ("/api/projections/status", Access::SignedIn),
    ("/api/projections/daily", Access::SignedIn),
    ("/api/projections/compare", Access::SignedIn),
    ("/api/projections/rollout", Access::SignedIn),
    ("/api/projections/accept-differences", A),
    ("/api/projections/skip", A),
    ("/api/projections/acknowledge-skips", A),
    ("/api/projections/acknowledge-alert", A),
    ("/api/projections/settings", A),
    ("/projections/{name}", Access::SignedIn),
    ("/api/projections/samples", Access::SignedIn),
    ("/api/projections/rebuild", A),
    ("/api/projections/retry", A),
    ("/api/projections/cut-over", A),
    ("/api/projections/retire", A),
    ("/api/auth/me", Access::Public),
    ("/api/auth/login", Access::Public),
    ("/api/auth/setup", Access::Public),
    ("/api/auth/logout", Access::SignedIn),
    ("/api/auth/change-password", Access::SignedIn),
    ("/api/users/list", A),
    ("/api/users/add", A),
    ("/api/users/disable", A),
    ("/api/users/enable", A),
    ("/api/users/reset-password", A),
    ("/api/users/change-role", A),
    ("/api/subscriptions/list", A),
    ("/api/subscriptions/detail", A),
    ("/api/subscriptions/create", A),
    ("/api/subscriptions/pause", A),
    ("/api/subscriptions/resume", A),
    ("/api/subscriptions/rewind", A),
    ("/api/subscriptions/test", A),
    ("/api/subscriptions/retry", A),
    ("/api/subscriptions/discard", A),
    ("/api/subscriptions/retry-all", A),
    ("/api/subscriptions/discard-all", A),
    ("/api/subscriptions/delete", A),
    ("/subscriptions", A),
    ("/subscriptions/{id}", A),
    ("/", Access::SignedIn),
    ("/shipments/{id}", Access::SignedIn),
    ("/projections", Access::SignedIn),
    ("/account", Access::SignedIn),
    ("/users", A),
    ("/login", Access::Public),
    ("/setup", Access::Public),
    ("/healthz", Access::Public),
    ("/metrics", Access::AdminOrMetricsToken),
    ("/live/shipments/{id}", Access::SignedIn),
    ("/live/board", Access::SignedIn),
    ("/api/events/list", D),
    ("/events", Access::SignedIn),
    ("/events/download", D),
];

/// Every path the running server answers, with its method.
fn registered() -> BTreeMap<String, &'static str> {
    let mut all = BTreeMap::new();
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        let method = if method == http::Method::GET {
            "GET"
        } else {
            "POST"
        };
        all.insert(path.to_string(), method);
    }
    for route in leptos_axum::generate_route_list(freightdesk::app::App) {
        all.insert(route.path().to_string(), "GET");
    }
    for path in freightdesk::server::PLAIN_ROUTES {
        all.insert(path.to_string(), "GET");
    }
    all
}

// Listing the page routes renders the router once, which needs a runtime.
#[tokio::test]
async fn every_entry_point_has_a_policy_and_it_is_the_expected_one() {
    let expected: BTreeMap<&str, Access> = EXPECTED.iter().copied().collect();
    for (path, method) in registered() {
        let want = expected
            .get(path.as_str())
            .unwrap_or_else(|| panic!("{method} {path} is not listed in this test"));
        let concrete = path.replace("{id}", "4f9e1c1e-3a55-4c43-9b7f-7f0d8f6b1a11");
        assert_eq!(
            access_for(method, &concrete),
            Some(*want),
            "{method} {path}: the policy table disagrees"
        );
    }
    let registered = registered();
    for (path, _) in EXPECTED {
        assert!(
            registered.contains_key(*path),
            "{path} is listed but not served"
        );
    }
}

#[tokio::test]
async fn every_policy_entry_decides_for_something_that_is_served() {
    let used: Vec<&str> = registered()
        .iter()
        .filter_map(|(path, method)| entry_for(method, &concrete(path)))
        .map(|(_, pattern, _)| *pattern)
        .collect();
    // Static files are served from the site folder, not from a route.
    let static_files = ["/pkg/*", "/favicon.ico"];
    for (_, pattern, _) in POLICY {
        assert!(
            used.contains(pattern) || static_files.contains(pattern),
            "the policy has an entry for {pattern}, which nothing serves"
        );
    }
}

fn concrete(path: &str) -> String {
    path.replace("{id}", &uuid::Uuid::new_v4().to_string())
        .replace("{name}", "shipment_board")
}

async fn call(app: &TestApp, client: &Client, path: &str, method: &str) -> reqwest::Response {
    let url = format!("{}{}", app.address, concrete(path));
    let request = if method == "GET" {
        client.get(url)
    } else {
        client
            .post(url)
            .header("Accept", "application/json")
            .form(&[("x", "y")])
    };
    // Live feeds stream forever: the status line is all this needs.
    request.send().await.expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_entry_point_refuses_whoever_its_role_does_not_allow() {
    let app = spawn_app(Dialect::Sqlite).await;
    let nobody = app.anonymous();
    let dispatcher = app.signed_in(DISPATCHER).await;
    let registered = registered();
    for (path, access) in EXPECTED {
        let method = registered[*path];
        if *path == "/api/auth/logout" {
            continue; // would end the session the rest of this test uses; covered below
        }
        let as_nobody = call(&app, &nobody, path, method).await.status();
        let as_dispatcher = call(&app, &dispatcher, path, method).await.status();
        let as_admin = call(&app, &app.client, path, method).await.status();
        let refused = |s: StatusCode| {
            matches!(
                s,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::SEE_OTHER
            )
        };
        match access {
            Access::Public => assert!(!refused(as_nobody), "{path}: nobody got {as_nobody}"),
            _ => assert!(refused(as_nobody), "{path}: nobody got {as_nobody}"),
        }
        if path.starts_with("/api/") && *access != Access::Public {
            assert_eq!(as_nobody, StatusCode::UNAUTHORIZED, "{path}");
        }
        match access {
            Access::Role(Role::Admin) | Access::AdminOrMetricsToken => {
                assert_eq!(as_dispatcher, StatusCode::FORBIDDEN, "{path}")
            }
            _ => assert!(
                !refused(as_dispatcher),
                "{path}: dispatcher got {as_dispatcher}"
            ),
        }
        assert!(!refused(as_admin), "{path}: admin got {as_admin}");
    }
    // An admin's page refuses a dispatcher inside the app's own shell, titled, drawing none of
    // the page itself.
    for page in ["/users", "/subscriptions", "/subscriptions/{id}"] {
        let refused = call(&app, &dispatcher, page, "GET").await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{page}");
        let body = refused.text().await.unwrap();
        assert!(
            body.contains("<title>Not allowed · freightdesk</title>"),
            "{page}: {body}"
        );
        assert!(body.contains(r#"class="topbar""#), "{page}: no shell");
        assert!(body.contains("This page is for the admin role"), "{page}");
        assert!(
            !body.contains("Add user") && !body.contains("Add subscription"),
            "{page}"
        );
    }
    // Prometheus scrapes with the configured token, and only with it.
    let metrics = |token: &str| {
        nobody
            .get(format!("{}/metrics", app.address))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(metrics(METRICS_TOKEN).await.unwrap().status(), 200);
    assert_eq!(metrics("guess").await.unwrap().status(), 401);
    // A page sends a signed-out person to the login page, and back afterwards.
    let page = call(&app, &nobody, "/projections", "GET").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page.headers()["location"],
        "/login?next=%2Fprojections",
        "{:?}",
        page.headers()
    );
    // Signing out ends the session on the server.
    let out = app.post_form_as(&dispatcher, "auth/logout", &[]).await;
    assert!(out.status().is_success() || out.status().is_redirection());
    let after = call(&app, &dispatcher, "/api/shipments/board", "POST").await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_from_another_site_or_without_an_origin_are_refused() {
    let app = spawn_app(Dialect::Sqlite).await;
    let form = [
        ("origin", "Rotterdam"),
        ("destination", "Milan"),
        ("pickup_at", "2026-12-01T08:00"),
    ];
    let url = format!("{}/api/shipments/schedule", app.address);
    // The admin's own client sends our origin: accepted.
    let ours = app.post_form("shipments/schedule", &form).await;
    assert_eq!(ours.status(), 200);
    let foreign = app
        .client
        .post(&url)
        .header("Origin", "http://evil.example")
        .header("Accept", "application/json")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = foreign.json().await.unwrap();
    assert_eq!(body["kind"], "forbidden");
    // The same session cookie, but a request with neither Origin nor Referer.
    let cookie_only = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = cookie_only
        .post(format!("{}/api/auth/login", app.address))
        .header("Origin", &app.address)
        .form(&[("name", DISPATCHER.0), ("password", DISPATCHER.2)])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success() || login.status().is_redirection());
    let bare = cookie_only.post(&url).form(&form).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::FORBIDDEN);
    // Only the one accepted command was stored.
    let (_, events) = app.store.head().await.unwrap();
    assert_eq!(events, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_and_the_audit_carry_the_signed_in_user() {
    let app = spawn_app(Dialect::Sqlite).await;
    let dispatcher = app.signed_in(DISPATCHER).await;
    let scheduled = app
        .post_form_as(
            &dispatcher,
            "shipments/schedule",
            &[
                ("origin", "Porto"),
                ("destination", "Basel"),
                ("pickup_at", "2026-12-01T08:00"),
            ],
        )
        .await;
    assert_eq!(scheduled.status(), 200);
    let events = crate::helpers::read_all_until(&app.store, 1).await;
    assert_eq!(events[0].metadata.actor, DISPATCHER.0);
    let rebuilt = app
        .post_form("projections/rebuild", &[("key", "daily_shipments@1")])
        .await;
    assert_eq!(rebuilt.status(), 200);
    let audit = freightdesk::projections::audit::recent(&app.projections, 5)
        .await
        .unwrap();
    assert_eq!(audit[0].actor, crate::helpers::ADMIN.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_response_carries_the_security_headers_and_pages_a_fresh_nonce() {
    let app = spawn_app(Dialect::Sqlite).await;
    let nonce_of = |csp: &str| -> String {
        let at = csp.find("'nonce-").expect("a nonce in the page policy") + "'nonce-".len();
        csp[at..].split('\'').next().unwrap().to_string()
    };
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let page = app
            .anonymous()
            .get(format!("{}/login", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let headers = page.headers().clone();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "same-origin");
        assert_eq!(headers["x-frame-options"], "DENY");
        let csp = headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let script_src = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .expect("a script-src directive");
        assert!(!script_src.contains("'unsafe-inline'"), "{csp}");
        let nonce = nonce_of(&csp);
        let body = page.text().await.unwrap();
        assert!(
            body.contains(&format!("nonce=\"{nonce}\"")),
            "the hydration script carries the header's nonce"
        );
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "a new nonce for every response");
    let api = app.post_form("shipments/board", &[]).await;
    let csp = api.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
}

/// The app's clock is the one sign-in reads: a session left alone past its idle lifetime is
/// refused over HTTP once the clock has moved past it, without waiting for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_idle_past_its_lifetime_is_refused() {
    let app = spawn_app(Dialect::Sqlite).await;
    let board = async || app.post_form("shipments/board", &[]).await.status();
    assert_eq!(board().await, StatusCode::OK);
    let idle = freightdesk::auth::AuthConfig::default().idle;
    app.clock.advance(idle - std::time::Duration::from_secs(60));
    assert_eq!(board().await, StatusCode::OK, "not idle long enough yet");
    app.clock.advance(idle + std::time::Duration::from_secs(60));
    assert_eq!(board().await, StatusCode::UNAUTHORIZED);
}
