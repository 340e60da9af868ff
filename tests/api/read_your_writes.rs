//! Read-your-writes over a real server: a command's answer carries its position and sets the
//! `fd_seen` cookie; the next board read waits for the live projection to pass it (at most
//! 2 s, then it says it is catching up); garbage in the cookie never fails or slows a read.

use crate::both_backends;
use crate::helpers::{spawn_app, Dialect, TestApp, ADMIN, DISPATCHER};
use freightdesk::api::read_your_writes::WAIT_BOUND;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How far past the bound a read that gave up may answer (a slow, loaded test machine).
const SLACK: Duration = Duration::from_millis(1500);
/// A read with nothing to wait for answers well within this.
const AT_ONCE: Duration = Duration::from_secs(1);

/// Reads the board searched for `search`: the status, the body and how long it took.
async fn read_board(
    app: &TestApp,
    client: &reqwest::Client,
    search: &str,
    wait_for: &str,
) -> (u16, Value, Duration) {
    let started = Instant::now();
    let response = app
        .post_form_as(
            client,
            "shipments/board",
            &[("search", search), ("wait_for", wait_for)],
        )
        .await;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap();
    (status, body, started.elapsed())
}

fn shows(board: &Value, id: &str) -> bool {
    board["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["shipment"]["id"] == id)
}

fn unique(prefix: &str) -> String {
    format!("{prefix} {}", Uuid::new_v4().simple())
}

both_backends!(
    the_board_reflects_the_readers_own_command_at_once,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        let origin = unique("Rotterdam");
        let scheduled = app.schedule(&origin).await;

        // The position is the seq of the event the command appended, and the cookie carries it.
        let uuid = Uuid::parse_str(&scheduled.id).unwrap();
        let events = app.store.read_stream(uuid, 0).await.unwrap();
        assert_eq!(scheduled.position, events.last().unwrap().position.seq);
        let cookie = format!("fd_seen={};", scheduled.position);
        assert!(
            scheduled.set_cookie.iter().any(|c| c.starts_with(&cookie)
                && c.contains("HttpOnly")
                && c.contains("SameSite=Strict")),
            "{:?}",
            scheduled.set_cookie
        );

        // The very next read (no retry) shows it: the cookie made it wait for the projection.
        let (status, board, elapsed) = read_board(&app, &app.client, &origin, "").await;
        assert_eq!(status, 200, "{board}");
        assert!(shows(&board, &scheduled.id), "{board}");
        assert_eq!(board["catching_up"], false);
        assert!(elapsed < WAIT_BOUND, "{elapsed:?}");

        // Without the cookie, the explicit position does the same.
        let other = app.schedule(&unique("Ghent")).await;
        let dan = app.signed_in(DISPATCHER).await;
        let wait_for = other.position.to_string();
        let (status, board, _) = read_board(&app, &dan, "Ghent", &wait_for).await;
        assert_eq!(status, 200, "{board}");
        assert!(shows(&board, &other.id), "{board}");
        assert_eq!(board["catching_up"], false);
    }
);

both_backends!(
    a_board_that_cannot_catch_up_says_so_after_the_bound,
    |backend: Dialect| async move {
        let mut app = spawn_app(backend).await;
        app.workers.take().unwrap().shutdown().await;
        let origin = unique("Antwerp");
        let scheduled = app.schedule(&origin).await;

        let (status, board, elapsed) = read_board(&app, &app.client, &origin, "").await;
        assert_eq!(status, 200, "{board}");
        assert_eq!(board["catching_up"], true);
        assert!(!shows(&board, &scheduled.id), "the projection is stopped");
        assert!(
            elapsed >= WAIT_BOUND && elapsed <= WAIT_BOUND + SLACK,
            "the cookie's read took {elapsed:?}"
        );

        // Someone without the cookie or a position has nothing to wait for.
        let dan = app.signed_in(DISPATCHER).await;
        let (status, board, elapsed) = read_board(&app, &dan, &origin, "").await;
        assert_eq!(status, 200, "{board}");
        assert_eq!(board["catching_up"], false);
        assert!(
            elapsed < AT_ONCE,
            "a read without a position took {elapsed:?}"
        );

        // An explicit position waits the same bounded time.
        let wait_for = scheduled.position.to_string();
        let (status, board, elapsed) = read_board(&app, &dan, &origin, &wait_for).await;
        assert_eq!(status, 200, "{board}");
        assert_eq!(board["catching_up"], true);
        assert!(
            elapsed >= WAIT_BOUND && elapsed <= WAIT_BOUND + SLACK,
            "the explicit read took {elapsed:?}"
        );
    }
);

/// A client signed in as `user` whose jar also holds `fd_seen=<value>`.
async fn client_with_seen(app: &TestApp, user: (&str, &str, &str), value: &str) -> reqwest::Client {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ORIGIN,
        reqwest::header::HeaderValue::from_str(&app.address).unwrap(),
    );
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .default_headers(headers)
        .build()
        .unwrap();
    let (name, _, password) = user;
    let response = app
        .post_form_as(
            &client,
            "auth/login",
            &[("name", name), ("password", password)],
        )
        .await;
    assert!(response.status().is_success());
    let url = app.address.parse().unwrap();
    jar.add_cookie_str(&format!("fd_seen={value}; Path=/"), &url);
    client
}

both_backends!(
    garbage_positions_never_fail_or_slow_a_read,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        let origin = unique("Lyon");
        app.schedule(&origin).await;

        // A cookie is parsed leniently: garbage is ignored, and a position that names no event
        // (a stale cookie, a made-up number) has nothing to wait for.
        for value in [
            "abc",
            "-3",
            "",
            "1e9",
            "%00",
            "99999999999999999999",
            "9000000000",
        ] {
            let client = client_with_seen(&app, ADMIN, value).await;
            let (status, board, elapsed) = read_board(&app, &client, &origin, "").await;
            assert_eq!(status, 200, "fd_seen={value}: {board}");
            assert_eq!(board["catching_up"], false, "fd_seen={value}");
            assert!(elapsed < AT_ONCE, "fd_seen={value} took {elapsed:?}");
        }

        // An explicit `wait_for` is an argument: a malformed one is a 400 naming the field.
        for value in ["abc", "-1", "1.5"] {
            let (status, body, _) = read_board(&app, &app.client, &origin, value).await;
            assert_eq!(status, 400, "wait_for={value}: {body}");
            assert_eq!(body["kind"], "validation");
            assert!(body.to_string().contains("wait_for"), "{body}");
        }
        let (status, body, elapsed) = read_board(&app, &app.client, &origin, "9000000000").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["catching_up"], false);
        assert!(elapsed < AT_ONCE, "{elapsed:?}");
    }
);

/// Without JavaScript: the form post's redirect sets the cookie, and the server-rendered board
/// that follows waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_javascript_the_next_page_load_waits_too() {
    let app = spawn_app(Dialect::Sqlite).await;
    let origin = unique("Bremen");
    let response = app
        .client
        .post(format!("{}/api/shipments/schedule", app.address))
        .header("Accept", "text/html")
        .header("Referer", format!("{}/", app.address))
        .form(&[
            ("origin", origin.as_str()),
            ("destination", "Milan"),
            ("pickup_at", "2026-12-01T08:00"),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let cookies: Vec<_> = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("fd_seen=")),
        "{cookies:?}"
    );

    let page = app
        .client
        .get(format!("{}/?q={}", app.address, origin.replace(' ', "+")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    // A table cell, not the search box that echoes the query.
    assert!(
        html.contains(&format!(">{origin}<")),
        "the board shows the new shipment"
    );
    assert!(!html.contains("data-testid=\"catching-up\""));
}
