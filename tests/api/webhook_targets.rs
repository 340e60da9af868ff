//! Webhook targets are judged at creation by where their name points, not only by how they are
//! spelled: `localhost` (with a port, or fully qualified with its trailing dot) is refused just
//! as `127.0.0.1` is, with the same words, unless private targets are allowed.

use crate::helpers::{spawn_app, spawn_app_with, Dialect, TestApp};

async fn create(app: &TestApp, name: &str, target_url: &str) -> (u16, String) {
    let response = app
        .post_form(
            "subscriptions/create",
            &[("name", name), ("target_url", target_url)],
        )
        .await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

const PRIVATE: &str = "127.0.0.1 is a private, loopback or link-local address; \
                       set FREIGHTDESK_WEBHOOK_ALLOW_PRIVATE=1";

#[tokio::test]
async fn loopback_names_are_refused_at_creation_like_loopback_addresses() {
    let app = spawn_app_with(Dialect::Sqlite, |config| {
        config.webhooks.allow_private_targets = false;
    })
    .await;
    let (status, body) = create(&app, "By address", "http://127.0.0.1/").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains(PRIVATE), "{body}");
    for (name, target) in [
        ("With port", "http://localhost:8080/"),
        ("Qualified", "http://localhost./"),
        ("Sub", "http://hooks.localhost/x"),
    ] {
        let (status, body) = create(&app, name, target).await;
        assert_eq!(status, 400, "{target}: {body}");
        assert!(body.contains("\"target_url\""), "{target}: {body}");
        assert!(body.contains(PRIVATE), "{target}: {body}");
        let host = target
            .trim_start_matches("http://")
            .split(['/', ':'])
            .next()
            .unwrap();
        assert!(
            body.contains(&format!("{host} resolves to 127.0.0.1")),
            "{target}: {body}"
        );
    }
    let list = app.post_form("subscriptions/list", &[]).await;
    let list = list.text().await.unwrap();
    assert!(!list.contains("localhost"), "nothing was created: {list}");
}

#[tokio::test]
async fn loopback_names_are_accepted_when_private_targets_are_allowed() {
    // The test apps allow private targets (their receivers listen on loopback).
    let app = spawn_app(Dialect::Sqlite).await;
    for (name, target) in [
        ("With port", "http://localhost:8080/"),
        ("Qualified", "http://localhost./"),
    ] {
        let (status, body) = create(&app, name, target).await;
        assert_eq!(status, 200, "{target}: {body}");
    }
}
