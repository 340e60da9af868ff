//! Malformed input never gets a 5xx: thousands of generated bodies (bytes that are not UTF-8,
//! wrong content types, truncated or deeply nested JSON, huge numbers, NUL and control
//! characters, 5,000-character fields) go to every server function, as a dispatcher and as an
//! admin. The event log changes only by the commands that were accepted.

use crate::helpers::{spawn_app, Dialect, TestApp, DISPATCHER};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::Client;

const CASES_PER_ENDPOINT_AND_ROLE: usize = 40;

/// Server functions that append exactly one event when they succeed.
const COMMANDS: [&str; 5] = [
    "/api/shipments/schedule",
    "/api/shipments/pick-up",
    "/api/shipments/record-location",
    "/api/shipments/deliver",
    "/api/shipments/cancel",
];

#[derive(Debug, Clone)]
enum Body {
    Bytes(Vec<u8>),
    Form(Vec<(String, String)>),
    Json(String),
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "origin",
            "destination",
            "pickup_at",
            "shipment_id",
            "expected_version",
            "location",
            "lat",
            "lon",
            "notes",
            "reason",
            "key",
            "status",
            "search",
            "page",
            "after",
            "before",
            "name",
            "password",
            "display_name",
            "role",
            "token",
            "next",
            "current_password",
            "new_password",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,12}",
    ]
}

fn field_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,40}",
        "[\\x00-\\x1f]{1,8}",
        Just("\0".to_string()),
        "[a-zA-Z ]{4990,5010}",
        "-?9{20,60}",
        "-?[0-9]{1,4}(\\.[0-9]{1,20})?",
        Just("00000000-0000-0000-0000-000000000000".to_string()),
        Just("2026-12-01T08:00".to_string()),
        Just("<script>alert(1)</script>".to_string()),
        Just("%%%___\\\\".to_string()),
    ]
}

fn json_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (1usize..2000).prop_map(|depth| "[".repeat(depth) + &"]".repeat(depth)),
        (1usize..2000).prop_map(|depth| "{\"a\":".repeat(depth)),
        Just("{\"origin\": 1e999999, \"destination\": null}".to_string()),
        Just("{\"shipment_id\": 18446744073709551616999}".to_string()),
        any::<String>().prop_map(|s| format!("{{\"origin\": {s:?}}}")),
        "\\PC{0,200}",
    ]
}

fn body() -> impl Strategy<Value = (Body, &'static str)> {
    let content_type = prop::sample::select(vec![
        "application/x-www-form-urlencoded",
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "",
    ]);
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600).prop_map(Body::Bytes),
        prop::collection::vec((field_name(), field_value()), 0..8).prop_map(Body::Form),
        json_text().prop_map(Body::Json),
    ];
    (body, content_type)
}

async fn send(app: &TestApp, client: &Client, path: &str, body: &Body, content_type: &str) -> u16 {
    let mut request = client
        .post(format!("{}{path}", app.address))
        .header("Accept", "application/json");
    if !content_type.is_empty() {
        request = request.header("Content-Type", content_type);
    }
    let request = match body {
        Body::Bytes(bytes) => request.body(bytes.clone()),
        Body::Form(pairs) => {
            let encoded: String = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
                .collect::<Vec<_>>()
                .join("&");
            request.body(encoded)
        }
        Body::Json(text) => request.body(text.clone()),
    };
    request
        .send()
        .await
        .expect("the server answers")
        .status()
        .as_u16()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn generated_bodies_never_get_a_server_error_and_change_nothing_invalid() {
    let app = spawn_app(Dialect::Sqlite).await;
    let dispatcher = app.signed_in(DISPATCHER).await;
    let endpoints: Vec<&'static str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        // Signing out would end the session the rest of the run uses.
        .filter(|path| *path != "/api/auth/logout")
        .collect();
    assert!(endpoints.len() >= 20, "{endpoints:?}");
    let (_, events_before) = app.store.head().await.unwrap();
    let mut runner = TestRunner::deterministic();
    let strategy = body();
    let mut accepted_commands = 0;
    let mut sent = 0;
    for path in &endpoints {
        for client in [&dispatcher, &app.client] {
            for _ in 0..CASES_PER_ENDPOINT_AND_ROLE {
                let (body, content_type) = strategy.new_tree(&mut runner).unwrap().current();
                let status = send(&app, client, path, &body, content_type).await;
                sent += 1;
                assert!(
                    status < 500,
                    "{path} answered {status} to {content_type:?} {body:?}"
                );
                if COMMANDS.contains(path) && (200..300).contains(&status) {
                    accepted_commands += 1;
                }
            }
        }
    }
    let (_, events_after) = app.store.head().await.unwrap();
    assert_eq!(
        events_after - events_before,
        accepted_commands,
        "only accepted commands appended events ({sent} requests)"
    );
}

/// The case a newcomer found: a body that is not UTF-8, whatever the content type, is a 400
/// `bad_request`, not a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_body_that_is_not_utf8_is_a_bad_request_everywhere() {
    let app = spawn_app(Dialect::Sqlite).await;
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        if path == "/api/auth/logout" {
            continue;
        }
        for content_type in [
            "application/x-www-form-urlencoded",
            "application/json",
            "text/plain",
        ] {
            let response = app
                .client
                .post(format!("{}{path}", app.address))
                .header("Accept", "application/json")
                .header("Content-Type", content_type)
                .body(vec![0xff, 0xfe, b'a', b'=', 0xc3, 0x28])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert!(
                (400..500).contains(&status),
                "{path} {content_type}: {status}"
            );
            if status == 400 {
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                assert!(
                    ["bad_request", "validation"].contains(&body["kind"].as_str().unwrap_or("")),
                    "{path} {content_type}: {body}"
                );
            }
        }
    }
}
