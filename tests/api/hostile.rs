//! Hostile input over a real server: user text that looks like markup stays text in every page,
//! and no sign-in return path leaves the site or breaks a header. Rendering does not depend on
//! the backend, so these run on SQLite.

use crate::helpers::{spawn_app, Dialect, DISPATCHER};
use serde_json::Value;

const MARKUP: &str =
    r#"</title></script><meta http-equiv="refresh" content="0;url=https://evil.example/">"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn markup_in_a_place_name_stays_text_in_the_page_title() {
    let app = spawn_app(Dialect::Sqlite).await;
    let dispatcher = app.signed_in(DISPATCHER).await;
    let response = app
        .post_form_as(
            &dispatcher,
            "shipments/schedule",
            &[
                ("origin", MARKUP),
                ("destination", "Milan"),
                ("pickup_at", "2026-12-01T08:00"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let id = body["shipment_id"].as_str().unwrap();

    let page = app
        .client
        .get(format!("{}/shipments/{id}", app.address))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let head = &html[..html.find("</head>").expect("a head")];
    assert_eq!(head.matches("<title>").count(), 1, "one title: {head}");
    assert!(!html.contains("<meta http-equiv"), "markup escaped: {head}");
    assert!(!html.contains("</title></script>"), "{head}");
    let title = &head[head.find("<title>").unwrap() + 7..head.find("</title>").unwrap()];
    assert!(
        title.starts_with("&lt;/title&gt;&lt;/script&gt;&lt;meta http-equiv="),
        "the title shows the text as typed: {title}"
    );
    assert!(
        title.ends_with(" → Milan · Shipment · freightdesk"),
        "{title}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_in_returns_only_to_paths_of_this_site() {
    let app = spawn_app(Dialect::Sqlite).await;
    let (name, _, password) = DISPATCHER;
    let cases = [
        ("/shipments?status=InTransit", "/shipments?status=InTransit"),
        ("/\t/evil.example/", "/"),
        ("/\n/evil.example/", "/"),
        ("/\r\nSet-Cookie: x=1", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\u{0}", "/"),
    ];
    for (next, expected) in cases {
        // A form post without JavaScript, as a browser sends it: answered with a redirect.
        let response = app
            .anonymous()
            .post(format!("{}/api/auth/login", app.address))
            .header("Accept", "text/html")
            .form(&[("name", name), ("password", password), ("next", next)])
            .send()
            .await
            .unwrap_or_else(|e| panic!("no answer for next={next:?}: {e}"));
        assert_eq!(response.status(), 302, "next={next:?}");
        assert_eq!(
            response.headers()["location"].to_str().unwrap(),
            expected,
            "next={next:?}"
        );
    }
}
