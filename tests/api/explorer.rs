//! The event explorer's read of the whole log: newest first, each filter, cursor paging both
//! ways, and clear refusals of bad input, on both backends, through the server function.

use crate::both_backends;
use crate::helpers::{spawn_app, Dialect, TestApp};
use serde_json::Value;

async fn list(app: &TestApp, form: &[(&str, &str)]) -> Value {
    let response = app.post_form("events/list", form).await;
    assert_eq!(response.status(), 200, "{form:?}");
    response.json().await.unwrap()
}

fn seqs(page: &Value) -> Vec<i64> {
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect()
}

both_backends!(
    the_log_reads_newest_first_filtered_and_paged,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        let mut ids = Vec::new();
        for i in 0..3 {
            let r = app
                .post_form(
                    "shipments/schedule",
                    &[
                        ("origin", &format!("Explorer {i}")),
                        ("destination", "Log"),
                        ("pickup_at", "2026-12-01T08:00"),
                    ],
                )
                .await;
            assert_eq!(r.status(), 200);
            let body: Value = r.json().await.unwrap();
            ids.push(body["shipment_id"].as_str().unwrap().to_string());
        }
        let r = app
            .post_form(
                "shipments/pick-up",
                &[("shipment_id", &ids[1]), ("expected_version", "1")],
            )
            .await;
        assert_eq!(r.status(), 200);

        let all = list(&app, &[]).await;
        let all_seqs = seqs(&all);
        assert_eq!(all_seqs.len(), 4);
        assert!(all_seqs.windows(2).all(|w| w[0] > w[1]), "newest first");
        assert_eq!(all["rows"][0]["event_type"], "ShipmentPickedUp");
        assert_eq!(all["rows"][0]["shipment_id"], ids[1].as_str());
        assert_eq!(all["rows"][0]["actor"], "ada");
        assert!(all["older"].is_null() && all["newer"].is_null());

        let picked = list(&app, &[("event_type", "ShipmentPickedUp")]).await;
        assert_eq!(seqs(&picked), [all_seqs[0]]);
        let stream = list(&app, &[("stream", &ids[1])]).await;
        assert_eq!(seqs(&stream).len(), 2);
        assert_eq!(seqs(&list(&app, &[("actor", "ada")]).await).len(), 4);
        assert!(seqs(&list(&app, &[("actor", "nobody")]).await).is_empty());
        // Times in the zone the form names: nothing was recorded before 2000 or after 2999.
        let window = [("from", "2000-01-01T00:00"), ("zone", "Europe/Amsterdam")];
        assert_eq!(seqs(&list(&app, &window).await).len(), 4);
        assert!(seqs(&list(&app, &[("to", "2000-01-01T00:00")]).await).is_empty());

        // Paging from a position, both ways.
        let older = list(&app, &[("before", &all_seqs[1].to_string())]).await;
        assert_eq!(seqs(&older), all_seqs[2..]);
        assert_eq!(older["newer"], all_seqs[2]);
        let newer = list(&app, &[("after", &all_seqs[2].to_string())]).await;
        assert_eq!(seqs(&newer), all_seqs[..2]);
        assert_eq!(newer["older"], all_seqs[1]);

        // Bad input is refused field by field.
        let r = app
            .post_form(
                "events/list",
                &[
                    ("event_type", "Teleported"),
                    ("stream", "nope"),
                    ("from", "yesterday"),
                    ("before", "x"),
                ],
            )
            .await;
        assert_eq!(r.status(), 400);
        let body: Value = r.json().await.unwrap();
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["event_type", "stream", "from", "before"]);
    }
);
