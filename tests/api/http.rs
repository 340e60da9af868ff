//! The command endpoints over a real server: success and every error kind with its status.

use crate::both_backends;
use crate::helpers::{eventually, spawn_app, Dialect};
use serde_json::Value;

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    response.json().await.expect("a JSON error body")
}

both_backends!(lifecycle_over_http, |backend: Dialect| async move {
    let app = spawn_app(backend).await;
    let scheduled = app.schedule("Rotterdam").await;
    let id = scheduled.id;
    assert_eq!(scheduled.version, 1);
    let r = app
        .post_form(
            "shipments/pick-up",
            &[("shipment_id", &id), ("expected_version", "1")],
        )
        .await;
    assert_eq!(json_of(r, 200).await["version"], 2);
    let r = app
        .post_form(
            "shipments/record-location",
            &[
                ("shipment_id", &id),
                ("expected_version", "2"),
                ("location", "Basel"),
                ("lat", "47.56"),
                ("lon", "7.59"),
            ],
        )
        .await;
    assert_eq!(json_of(r, 200).await["version"], 3);
    let r = app
        .post_form(
            "shipments/deliver",
            &[("shipment_id", &id), ("expected_version", "3")],
        )
        .await;
    assert_eq!(json_of(r, 200).await["version"], 4);

    let r = app
        .post_form("shipments/get", &[("shipment_id", &id)])
        .await;
    let view = json_of(r, 200).await;
    assert_eq!(view["shipment"]["status"], "Delivered");
    let types: Vec<&str> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "ShipmentScheduled",
            "ShipmentPickedUp",
            "LocationRecorded",
            "ShipmentDelivered"
        ]
    );
    assert_eq!(view["timeline"][1]["actor"], crate::helpers::ADMIN.0);
});

both_backends!(
    each_error_kind_has_its_status,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        // 400: invalid fields, all of them named.
        let r = app
            .post_form(
                "shipments/schedule",
                &[
                    ("origin", "  "),
                    ("destination", "Milan"),
                    ("pickup_at", "soon"),
                ],
            )
            .await;
        let body = json_of(r, 400).await;
        assert_eq!(body["kind"], "validation");
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["origin", "pickup_at"]);
        // 400: a required field missing altogether.
        let r = app
            .post_form("shipments/schedule", &[("origin", "Oslo")])
            .await;
        assert_eq!(json_of(r, 400).await["kind"], "bad_request");
        // 400: a version that is not a number.
        let id = app.schedule("Rotterdam").await.id;
        let r = app
            .post_form(
                "shipments/pick-up",
                &[("shipment_id", &id), ("expected_version", "latest")],
            )
            .await;
        assert_eq!(
            json_of(r, 400).await["errors"][0]["field"],
            "expected_version"
        );
        // 404: unknown and malformed ids.
        let unknown = uuid::Uuid::new_v4().to_string();
        let r = app
            .post_form(
                "shipments/pick-up",
                &[("shipment_id", &unknown), ("expected_version", "1")],
            )
            .await;
        assert_eq!(json_of(r, 404).await["kind"], "not_found");
        let r = app
            .post_form("shipments/get", &[("shipment_id", "nope")])
            .await;
        assert_eq!(json_of(r, 404).await["kind"], "not_found");
        // 422: refused by the rules, naming the status.
        let r = app
            .post_form(
                "shipments/deliver",
                &[("shipment_id", &id), ("expected_version", "1")],
            )
            .await;
        let body = json_of(r, 422).await;
        assert_eq!(body["kind"], "rejected");
        assert_eq!(
            body["message"],
            "cannot deliver a shipment that is Scheduled"
        );
        assert_eq!(body["status"], "Scheduled");
        // 409: a stale version, with what changed since.
        let r = app
            .post_form(
                "shipments/cancel",
                &[
                    ("shipment_id", &id),
                    ("expected_version", "1"),
                    ("reason", "customer withdrew"),
                ],
            )
            .await;
        assert_eq!(r.status(), 200);
        let r = app
            .post_form(
                "shipments/pick-up",
                &[("shipment_id", &id), ("expected_version", "1")],
            )
            .await;
        let body = json_of(r, 409).await;
        assert_eq!(body["kind"], "conflict");
        assert_eq!(
            (
                body["expected_version"].as_i64(),
                body["actual_version"].as_i64()
            ),
            (Some(1), Some(2))
        );
        assert_eq!(body["events_since"][0]["event_type"], "ShipmentCancelled");
        assert_eq!(
            body["events_since"][0]["summary"],
            "Cancelled: customer withdrew"
        );
        assert_eq!(body["current"]["status"], "Cancelled");
        // 409: a client-chosen id that is taken.
        let r = app
            .post_form(
                "shipments/schedule",
                &[
                    ("origin", "A"),
                    ("destination", "B"),
                    ("pickup_at", "2026-12-01T08:00"),
                    ("shipment_id", &id),
                ],
            )
            .await;
        assert_eq!(json_of(r, 409).await["kind"], "already_exists");
        // Nothing of the refused commands was stored.
        assert_eq!(
            app.store
                .read_stream(id.parse().unwrap(), 0)
                .await
                .unwrap()
                .len(),
            2
        );
    }
);

both_backends!(
    oversized_payloads_are_refused,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        let huge = "x".repeat(200 * 1024);
        let r = app
            .post_form(
                "shipments/schedule",
                &[
                    ("origin", &huge),
                    ("destination", "B"),
                    ("pickup_at", "2026-12-01T08:00"),
                ],
            )
            .await;
        assert_eq!(r.status(), 413);
        assert!(r.text().await.unwrap().contains("at most 64 KiB"));
        let r = app
            .post_form(
                "shipments/schedule",
                &[
                    ("origin", &"y".repeat(121)),
                    ("destination", "B"),
                    ("pickup_at", "2026-12-01T08:00"),
                ],
            )
            .await;
        assert!(json_of(r, 400).await["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too long"));
    }
);

both_backends!(health_follows_the_database, |backend: Dialect| async move {
    let app = spawn_app(backend).await;
    let r = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.store.close().await;
    let r = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.text().await.unwrap(), "database unavailable\n");
    // Commands answer 503 with a message a person can act on, never an internal one.
    let r = app
        .post_form(
            "shipments/schedule",
            &[
                ("origin", "A"),
                ("destination", "B"),
                ("pickup_at", "2026-12-01T08:00"),
            ],
        )
        .await;
    assert_eq!(json_of(r, 503).await["kind"], "unavailable");
});

both_backends!(
    no_js_form_posts_redirect_back_with_the_error,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        let r = app
            .client
            .post(format!("{}/api/shipments/schedule", app.address))
            .header("Accept", "text/html")
            .header("Referer", format!("{}/", app.address))
            .form(&[
                ("origin", ""),
                ("destination", "B"),
                ("pickup_at", "2026-12-01T08:00"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
        let location = r.headers()["location"].to_str().unwrap();
        assert!(location.contains("__err="), "{location}");
    }
);

both_backends!(board_and_metrics_over_http, |backend: Dialect| async move {
    let app = spawn_app(backend).await;
    let id = app.schedule("Rotterdam").await.id;
    // The board is a projection: it shows the shipment once the daemon has applied it.
    let body = eventually("the board to show the shipment", async || {
        let r = app
            .post_form("shipments/board", &[("search", &id[..8])])
            .await;
        let body = json_of(r, 200).await;
        assert_eq!(body["served_by"], "shipment_board@1");
        if body["total"] == 1 {
            Ok(body)
        } else {
            Err(body)
        }
    })
    .await;
    assert_eq!(body["entries"][0]["shipment"]["id"], id.as_str());
    let r = app
        .post_form("shipments/board", &[("status", "Lost")])
        .await;
    assert_eq!(json_of(r, 400).await["errors"][0]["field"], "status");
    let r = app
        .post_form("shipments/board", &[("after", "not|a cursor")])
        .await;
    assert_eq!(json_of(r, 400).await["errors"][0]["field"], "after");
    let r = app.post_form("shipments/board", &[("page", "0")]).await;
    assert_eq!(json_of(r, 400).await["errors"][0]["field"], "page");

    let r = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    for metric in [
        "freightdesk_projection_lag_events",
        "freightdesk_projection_lag_seconds",
        "freightdesk_projection_events_per_second",
        "freightdesk_projection_failed",
    ] {
        assert!(
            text.contains(&format!("# TYPE {metric} gauge")),
            "{metric} missing:\n{text}"
        );
    }
    assert!(text.contains(r#"freightdesk_projection_failed{projection="shipment_board",version="2",state="building"} 0"#)
        || text.contains(r#"freightdesk_projection_failed{projection="shipment_board",version="2",state="standby"} 0"#), "{text}");
    assert!(text.contains("freightdesk_events_total 1"), "{text}");

    let r = app
        .post_form("projections/rebuild", &[("key", "shipment_board@9")])
        .await;
    assert_eq!(json_of(r, 404).await["kind"], "not_found");
    let r = app
        .post_form("projections/retry", &[("key", "shipment_board@1")])
        .await;
    assert_eq!(
        json_of(r, 422).await["message"],
        "shipment_board@1 has not failed"
    );
    let r = app
        .post_form("projections/rebuild", &[("key", "daily_shipments@1")])
        .await;
    assert_eq!(r.status(), 200);
});

both_backends!(
    the_console_questions_a_pickup_in_the_past_or_far_ahead,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        let form_time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
        let now = chrono::Utc::now();
        for (when, why) in [
            (now - chrono::Duration::days(3), "is in the past"),
            (
                now + chrono::Duration::days(200),
                "is more than six months ahead",
            ),
        ] {
            let pickup = form_time(when);
            // The console's form: refused once, beside the date, with what was typed kept.
            let body = json_of(
                app.post_form("shipments/schedule", &console_form(&pickup, ""))
                    .await,
                400,
            )
            .await;
            assert_eq!(body["kind"], "validation");
            assert_eq!(body["errors"][0]["field"], "pickup_at");
            assert_eq!(body["errors"][0]["message"], why);
            assert_eq!(body["errors"][1]["field"], "pickup_confirmed");
            // Confirmed, it is scheduled.
            let r = app
                .post_form("shipments/schedule", &console_form(&pickup, "yes"))
                .await;
            assert_eq!(r.status(), 200);
            // A script that does not ask for the check is not asked.
            let r = app
                .post_form(
                    "shipments/schedule",
                    &[
                        ("origin", "Gouda"),
                        ("destination", "Parma"),
                        ("pickup_at", &pickup),
                    ],
                )
                .await;
            assert_eq!(r.status(), 200);
        }
        // Tomorrow needs no confirmation.
        let tomorrow = form_time(now + chrono::Duration::days(1));
        let r = app
            .post_form(
                "shipments/schedule",
                &[
                    ("origin", "Gouda"),
                    ("destination", "Parma"),
                    ("pickup_at", &tomorrow),
                    ("pickup_check", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), 200);
    }
);

/// What the console's schedule form posts.
fn console_form<'a>(pickup: &'a str, confirmed: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("origin", "Gouda"),
        ("destination", "Parma"),
        ("pickup_at", pickup),
        ("pickup_check", "1"),
        ("pickup_confirmed", confirmed),
    ]
}
