//! The event log moves: `events export` and `events import` of the real binary, across both
//! backends, exact round trips, and bad files refused by line with nothing stored.

use crate::both_backends;
use crate::helpers::{fresh_database_url, open, random_history, Dialect};
use freightdesk::store::{EventMetadata, EventStore, ExpectedVersion, NewEvent};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use uuid::Uuid;

/// Runs the binary; answers success, standard output and standard error.
fn freightdesk(database_url: &str, args: &[&str]) -> (bool, Vec<u8>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_freightdesk"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run freightdesk");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), out.stdout, stderr)
}

fn export(url: &str, filters: &[&str]) -> Vec<u8> {
    let args: Vec<&str> = ["events", "export"]
        .iter()
        .chain(filters)
        .copied()
        .collect();
    let (ok, out, err) = freightdesk(url, &args);
    assert!(ok, "export failed: {err}");
    out
}

fn import(url: &str, file: &Path) -> (bool, String) {
    let (ok, _, err) = freightdesk(url, &["events", "import", file.to_str().unwrap()]);
    (ok, err)
}

/// A history with several actors and an event stored at an old schema version, which the
/// export must keep as stored (not upcast).
async fn varied_history(store: &EventStore) -> Uuid {
    random_history(store, 12, 80, 0xfeed).await;
    let stream = Uuid::new_v4();
    let by = |actor: &str| EventMetadata {
        actor: actor.into(),
        correlation_id: Uuid::new_v4(),
        causation_id: Some(Uuid::new_v4()),
        command: "test".into(),
    };
    let event = |event_type: &str, schema_version: i32, data: Value| NewEvent {
        event_type: event_type.into(),
        schema_version,
        data,
    };
    let scheduled = event(
        "ShipmentScheduled",
        1,
        json!({"shipment_id": stream, "origin": "=cmd|' /C calc'!A0", "destination": "Riga",
               "scheduled_at": "2026-11-28T08:00:00Z"}),
    );
    store
        .append_with_expected_version(
            stream,
            "shipment",
            ExpectedVersion::NoStream,
            &[scheduled],
            &by("ana"),
        )
        .await
        .unwrap();
    let picked = event(
        "ShipmentPickedUp",
        1,
        json!({"picked_up_at": "2026-11-28T09:00:00Z"}),
    );
    store
        .append_with_expected_version(
            stream,
            "shipment",
            ExpectedVersion::Exactly(1),
            &[picked],
            &by("dan"),
        )
        .await
        .unwrap();
    let old_location = event(
        "LocationRecorded",
        1,
        json!({"place": "Basel", "recorded_at": "2026-11-28T10:00:00Z"}),
    );
    store
        .append_with_expected_version(
            stream,
            "shipment",
            ExpectedVersion::Exactly(2),
            &[old_location],
            &by("+bo"),
        )
        .await
        .unwrap();
    stream
}

fn lines(file: &[u8]) -> Vec<Value> {
    String::from_utf8(file.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

both_backends!(
    an_exported_log_imports_into_the_other_backend_and_exports_the_same,
    |backend: Dialect| async move {
        let other = match backend {
            Dialect::Postgres => Dialect::Sqlite,
            Dialect::Sqlite => Dialect::Postgres,
        };
        let (source_url, _source_dir) = fresh_database_url(backend).await;
        let source = open(&source_url).await.store;
        let old_stream = varied_history(&source).await;
        let (_, count) = source.head().await.unwrap();

        let exported = export(&source_url, &[]);
        let parsed = lines(&exported);
        assert_eq!(parsed.len() as i64, count, "one line per event");
        let positions: Vec<i64> = parsed
            .iter()
            .map(|l| l["position"].as_i64().unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "log order");
        let old = parsed
            .iter()
            .find(|l| l["stream_id"] == old_stream.to_string() && l["version"] == 3)
            .unwrap();
        assert_eq!(old["schema_version"], 1, "stored, not upcast: {old}");
        assert_eq!(old["data"]["place"], "Basel");
        assert_eq!(old["metadata"]["actor"], "+bo");
        assert_eq!(old["stream_kind"], "shipment");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("log.jsonl");
        std::fs::write(&file, &exported).unwrap();
        let (target_url, _target_dir) = fresh_database_url(other).await;
        let (ok, err) = import(&target_url, &file);
        assert!(ok, "import failed: {err}");
        assert!(err.contains(&format!("imported {count} events")), "{err}");

        // The same file again: positions are kept, so nothing differs at all.
        let again = export(&target_url, &[]);
        assert_eq!(
            String::from_utf8(again).unwrap(),
            String::from_utf8(exported).unwrap()
        );

        // The imported store works: streams read back folded, appends continue after the log.
        let target = open(&target_url).await.store;
        let source_events = source.read_stream(old_stream, 0).await.unwrap();
        let target_events = target.read_stream(old_stream, 0).await.unwrap();
        let without_tx = |events: Vec<freightdesk::store::RecordedEvent>| {
            events
                .into_iter()
                .map(|mut e| {
                    e.position.tx = 0;
                    e
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(without_tx(target_events), without_tx(source_events));
        assert_eq!(target.stream_version(old_stream).await.unwrap(), Some(3));
        let next = NewEvent {
            event_type: "ShipmentDelivered".into(),
            schema_version: 1,
            data: json!({"delivered_at": "2026-11-29T10:00:00Z"}),
        };
        let metadata = EventMetadata {
            actor: "ana".into(),
            correlation_id: Uuid::new_v4(),
            causation_id: None,
            command: "deliver".into(),
        };
        let appended = target
            .append_with_expected_version(
                old_stream,
                "shipment",
                ExpectedVersion::Exactly(3),
                &[next],
                &metadata,
            )
            .await
            .unwrap();
        assert!(
            appended.last_seq > *positions.last().unwrap(),
            "{appended:?}"
        );

        // Importing into a store that is not empty is refused, and adds nothing.
        let (ok, err) = import(&target_url, &file);
        assert!(!ok && err.contains("not empty"), "{err}");
        assert_eq!(target.head().await.unwrap().1, count + 1);
    }
);

both_backends!(
    an_export_can_be_filtered_like_the_explorer,
    |backend: Dialect| async move {
        let (url, _dir) = fresh_database_url(backend).await;
        let store = open(&url).await.store;
        let stream = varied_history(&store).await;
        let picked = lines(&export(&url, &["--type", "ShipmentPickedUp"]));
        assert!(!picked.is_empty());
        assert!(picked.iter().all(|l| l["event_type"] == "ShipmentPickedUp"));
        let one = lines(&export(&url, &["--stream", &stream.to_string()]));
        assert_eq!(one.len(), 3);
        let by_dan = lines(&export(&url, &["--actor", "dan"]));
        assert_eq!(by_dan.len(), 1);
        let none = export(&url, &["--from", "2999-01-01T00:00"]);
        assert!(none.is_empty());
        let (ok, _, err) = freightdesk(&url, &["events", "export", "--type", "Nope"]);
        assert!(!ok && err.contains("--type"), "{err}");
        let (ok, _, err) = freightdesk(&url, &["events", "export", "--from", "yesterday"]);
        assert!(!ok && err.contains("--from"), "{err}");
    }
);

/// A good three-event log of one stream, as lines, to be spoilt one way at a time.
fn good_lines() -> Vec<Value> {
    let stream = Uuid::new_v4();
    let metadata = json!({"actor": "ana", "correlation_id": Uuid::new_v4(), "causation_id": null, "command": "t"});
    let line = |position: i64, version: i64, event_type: &str, data: Value| {
        json!({"position": position, "stream_id": stream, "stream_kind": "shipment",
               "version": version, "event_id": Uuid::new_v4(), "event_type": event_type,
               "schema_version": 1, "data": data, "metadata": metadata,
               "recorded_at": "2026-11-28T08:00:00.000000Z"})
    };
    vec![
        line(
            1,
            1,
            "ShipmentScheduled",
            json!({"shipment_id": stream, "origin": "Oslo", "destination": "Riga",
                   "scheduled_at": "2026-11-28T08:00:00Z"}),
        ),
        line(
            2,
            2,
            "ShipmentPickedUp",
            json!({"picked_up_at": "2026-11-28T09:00:00Z"}),
        ),
        line(
            3,
            3,
            "ShipmentDelivered",
            json!({"delivered_at": "2026-11-28T10:00:00Z"}),
        ),
    ]
}

both_backends!(
    a_bad_line_is_refused_by_number_and_nothing_is_stored,
    |backend: Dialect| async move {
        let (url, _dir) = fresh_database_url(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let render = |lines: &[Value]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        let good = good_lines();
        let mut gap = good.clone();
        gap[2]["version"] = json!(4);
        let mut repeated = good.clone();
        repeated[2]["version"] = json!(2);
        let mut unknown = good.clone();
        unknown[1]["event_type"] = json!("ShipmentTeleported");
        let mut unordered = good.clone();
        unordered[2]["position"] = json!(2);
        let mut no_actor = good.clone();
        no_actor[1]["metadata"] = json!({"note": "who?"});
        let mut bad_data = good.clone();
        bad_data[1]["data"] = json!({"picked_up_at": "soon"});
        let malformed = format!("{}{{\"position\": 2,\n", render(&good[..1]));
        let cases = [
            ("malformed", malformed, "line 2: not a log line"),
            ("gap", render(&gap), "line 3: stream"),
            ("repeat", render(&repeated), "line 3: stream"),
            (
                "unknown type",
                render(&unknown),
                "line 2: unknown event type",
            ),
            ("order", render(&unordered), "line 3: position 2"),
            ("actor", render(&no_actor), "line 2: metadata"),
            ("data", render(&bad_data), "line 2: "),
        ];
        for (what, text, expected) in cases {
            let file = dir.path().join(format!("{what}.jsonl"));
            std::fs::write(&file, text).unwrap();
            let (ok, err) = import(&url, &file);
            assert!(!ok && err.contains(expected), "{what}: {err}");
            let store = open(&url).await.store;
            assert_eq!(
                store.head().await.unwrap(),
                (0, 0),
                "{what}: nothing stored"
            );
        }
        let file = dir.path().join("good.jsonl");
        std::fs::write(&file, render(&good)).unwrap();
        let (ok, err) = import(&url, &file);
        assert!(ok, "{err}");
        let store = open(&url).await.store;
        assert_eq!(store.head().await.unwrap(), (3, 3));
    }
);

both_backends!(
    the_console_downloads_the_filtered_log_as_json_lines_and_safe_csv,
    |backend: Dialect| async move {
        use crate::helpers::{spawn_app, DISPATCHER};
        let app = spawn_app(backend).await;
        let stream = varied_history(&app.store).await;
        let hostile = EventMetadata {
            actor: "=HYPERLINK(\"http://evil\",\"x\")".into(),
            correlation_id: Uuid::new_v4(),
            causation_id: None,
            command: "test".into(),
        };
        let delivered = NewEvent {
            event_type: "ShipmentDelivered".into(),
            schema_version: 1,
            data: json!({"delivered_at": "2026-11-29T10:00:00Z"}),
        };
        app.store
            .append_with_expected_version(
                stream,
                "shipment",
                ExpectedVersion::Exactly(3),
                &[delivered],
                &hostile,
            )
            .await
            .unwrap();
        let (_, count) = app.store.head().await.unwrap();
        let get = |client: &reqwest::Client, query: &str| {
            client
                .get(format!("{}/events/download?{query}", app.address))
                .send()
        };

        // JSON Lines of everything: the same lines the CLI writes.
        let all = get(&app.client, "format=jsonl").await.unwrap();
        assert_eq!(all.status(), 200);
        assert_eq!(
            all.headers()["content-type"],
            "application/x-ndjson; charset=utf-8"
        );
        assert!(all.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        let body = all.bytes().await.unwrap();
        assert_eq!(lines(&body).len() as i64, count);
        assert_eq!(body.to_vec(), export(&app.database_url, &[]));

        // CSV of one stream, as a dispatcher: header, one row per event, the formula defused.
        let csv = get(
            &app.signed_in(DISPATCHER).await,
            &format!("format=csv&stream={stream}"),
        )
        .await
        .unwrap();
        assert_eq!(csv.status(), 200);
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let text = csv.text().await.unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(
            rows[0],
            "position,shipment_id,version,event_type,actor,recorded_at,summary"
        );
        assert_eq!(rows.len(), 5, "{text}");
        assert!(
            rows[4].contains(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","),
            "{}",
            rows[4]
        );
        assert!(rows[3].contains(",'+bo,"), "{}", rows[3]);

        // The explorer's filters, in the zone given.
        let picked = get(
            &app.client,
            "event_type=ShipmentPickedUp&actor=dan&zone=Europe/Amsterdam&from=2000-01-01T00:00",
        )
        .await
        .unwrap();
        let picked = lines(&picked.bytes().await.unwrap());
        assert_eq!(picked.len(), 1);
        assert_eq!(picked[0]["stream_id"], stream.to_string());

        // Bad input: named by field, nothing internal.
        for (query, field) in [
            ("format=xml", "format"),
            ("stream=nope", "stream"),
            ("from=soon", "from"),
            ("event_type=Nope", "event_type"),
        ] {
            let refused = get(&app.client, query).await.unwrap();
            assert_eq!(refused.status(), 400, "{query}");
            let body: Value = refused.json().await.unwrap();
            assert_eq!(body["kind"], "validation", "{query}: {body}");
            assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
        }
    }
);
