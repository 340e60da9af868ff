//! Webhook subscriptions against a real receiver (`receiver.rs`): signed deliveries in order per
//! shipment, retries with backoff, dead letters an admin retries or discards, pause and resume,
//! rewind, no re-send on projection rebuilds or cutovers, take-over after kill -9, and targets
//! on private addresses refused.

use crate::both_backends;
use crate::helpers::{
    eventually, fresh_postgres_url, schedule_command, spawn_app, test_intervals, wait_caught_up,
    Dialect, TestApp,
};
use crate::receiver::{Answer, Received, Receiver};
use freightdesk::db::PortableDb;
use freightdesk::domain::{PlaceName, ShipmentCommand, ShipmentId};
use freightdesk::projections::{operator, rollout, Definition};
use freightdesk::store::shipments::{execute_with_retry, CommandContext};
use freightdesk::store::EventStore;
use freightdesk::subscriptions::signing::{
    self, DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use freightdesk::subscriptions::{operations, target, CreatedSubscription, WebhookConfig};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// Creates a subscription through the server function, as the console's form posts it.
pub(crate) async fn subscribe(
    app: &TestApp,
    name: &str,
    url: &str,
    types: &[&str],
    place: &str,
    max_attempts: &str,
) -> CreatedSubscription {
    let keys: Vec<String> = (0..types.len())
        .map(|i| format!("event_types[{i}]"))
        .collect();
    let mut form = vec![
        ("name", name),
        ("target_url", url),
        ("place_filter", place),
        ("max_attempts", max_attempts),
    ];
    form.extend(keys.iter().map(String::as_str).zip(types.iter().copied()));
    let response = app.post_form("subscriptions/create", &form).await;
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    response.json().await.unwrap()
}

async fn command(store: &EventStore, id: ShipmentId, command: ShipmentCommand) {
    execute_with_retry(store, id, &command, &CommandContext::new("dan"), 5)
        .await
        .expect("command");
}

/// A shipment scheduled, picked up, seen at a place and delivered: four events.
pub(crate) async fn whole_journey(store: &EventStore, origin: &str) -> ShipmentId {
    let id = ShipmentId::generate();
    let now = chrono::Utc::now();
    command(store, id, schedule_command(id, origin, "Berlin")).await;
    command(store, id, ShipmentCommand::PickUp { at: now }).await;
    let location = ShipmentCommand::RecordLocation {
        location: PlaceName::parse("location", "Hannover").unwrap(),
        position: None,
        notes: None,
        at: now,
    };
    command(store, id, location).await;
    command(store, id, ShipmentCommand::Deliver { at: now }).await;
    id
}

/// The README's procedure: recompute the signature over "{timestamp}.{body}" with the secret.
pub(crate) fn verify(secret: &str, r: &Received) {
    let now = chrono::Utc::now().timestamp();
    signing::verify(
        secret,
        &r.header(TIMESTAMP_HEADER),
        &r.body,
        &r.header(SIGNATURE_HEADER),
        now,
        signing::DEFAULT_TOLERANCE_SECS,
    )
    .unwrap_or_else(|e| {
        panic!(
            "delivery {} does not verify: {e}",
            r.header(DELIVERY_HEADER)
        )
    });
}

/// Successful deliveries per stream, in the order they arrived.
fn delivered_versions(received: &[Received]) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in received.iter().filter(|r| r.succeeded()) {
        out.entry(r.stream()).or_default().push(r.version());
    }
    out
}

async fn detail(app: &TestApp, id: i64) -> serde_json::Value {
    let response = app
        .post_form("subscriptions/detail", &[("id", &id.to_string())])
        .await;
    assert!(response.status().is_success());
    response.json().await.unwrap()
}

async fn wait_for_detail<F>(app: &TestApp, id: i64, what: &str, done: F) -> serde_json::Value
where
    F: Fn(&serde_json::Value) -> bool,
{
    eventually(what, async || {
        let d = detail(app, id).await;
        if done(&d) {
            Ok(d)
        } else {
            Err(d)
        }
    })
    .await
}

both_backends!(
    events_arrive_signed_filtered_and_in_order_per_shipment,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        let receiver = Receiver::start().await;
        let all = subscribe(&app, "Partner all", &receiver.url("all"), &[], "", "").await;
        let picky = subscribe(
            &app,
            "Partner picky",
            &receiver.url("picky"),
            &["ShipmentPickedUp", "ShipmentDelivered"],
            "rotter",
            "",
        )
        .await;
        assert!(all.secret.starts_with("whsec_") && all.secret != picky.secret);

        // The first shipment's first event fails twice with 503 before it is accepted: its later
        // events must wait, while the other shipments go on.
        let first = ShipmentId::generate();
        receiver.answer_stream(
            "all",
            &first.to_string(),
            &[Answer::Status(503), Answer::Status(503)],
        );
        command(
            &app.store,
            first,
            schedule_command(first, "Rotterdam", "Berlin"),
        )
        .await;
        let now = chrono::Utc::now();
        command(&app.store, first, ShipmentCommand::PickUp { at: now }).await;
        command(&app.store, first, ShipmentCommand::Deliver { at: now }).await;
        let others = [
            whole_journey(&app.store, "Rotterdam").await,
            whole_journey(&app.store, "Lyon").await,
        ];

        let got = receiver
            .wait_for("all", "all 11 events delivered", |got| {
                got.iter().filter(|r| r.succeeded()).count() == 11
            })
            .await;
        for r in &got {
            verify(&all.secret, r);
        }
        // Order per shipment, and the first shipment held back until its first event went through.
        let versions = delivered_versions(&got);
        assert_eq!(versions[&first.to_string()], vec![1, 2, 3]);
        for other in &others {
            assert_eq!(versions[&other.to_string()], vec![1, 2, 3, 4]);
        }
        let first_attempts: Vec<&Received> = got
            .iter()
            .filter(|r| r.stream() == first.to_string())
            .collect();
        assert_eq!(
            first_attempts.len(),
            5,
            "two failures, then three deliveries"
        );
        assert!(first_attempts[..3].iter().all(|r| r.version() == 1));
        let ids: Vec<String> = first_attempts[..3]
            .iter()
            .map(|r| r.header(DELIVERY_HEADER))
            .collect();
        assert!(
            ids.iter().all(|id| id == &ids[0]),
            "a retry keeps its delivery id: {ids:?}"
        );
        assert_eq!(
            ids[0],
            first_attempts[0].doc["delivery_id"].as_str().unwrap()
        );
        // The document carries the event and the shipment right after it.
        let pickup = got
            .iter()
            .find(|r| r.stream() == others[0].to_string() && r.version() == 2)
            .unwrap();
        assert_eq!(pickup.doc["event"]["type"], "ShipmentPickedUp");
        assert_eq!(pickup.doc["event"]["actor"], "dan");
        assert!(pickup.doc["event"]["position"].as_i64().unwrap() > 0);
        assert_eq!(pickup.doc["shipment"]["status"], "InTransit");
        assert_eq!(pickup.doc["shipment"]["origin"], "Rotterdam");
        assert_eq!(pickup.header("Freightdesk-Event"), "ShipmentPickedUp");

        // The picky one: pickups and deliveries of shipments from or to "rotter…" only.
        let picky_got = receiver
            .wait_for("picky", "4 picky deliveries", |got| got.len() >= 4)
            .await;
        let mut seen: Vec<(String, String)> = picky_got
            .iter()
            .map(|r| {
                (
                    r.stream(),
                    r.doc["event"]["type"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        seen.sort();
        let mut expected = vec![
            (first.to_string(), "ShipmentDelivered".to_string()),
            (first.to_string(), "ShipmentPickedUp".to_string()),
            (others[0].to_string(), "ShipmentDelivered".to_string()),
            (others[0].to_string(), "ShipmentPickedUp".to_string()),
        ];
        expected.sort();
        assert_eq!(seen, expected);
        for r in &picky_got {
            verify(&picky.secret, r);
        }

        // The console: counts and success rate, and never the secret again.
        let d = wait_for_detail(&app, all.id, "the counts", |d| {
            d["summary"]["delivered"] == 11 && d["summary"]["pending"] == 0
        })
        .await;
        assert_eq!(d["summary"]["dead"], 0);
        let listed = app
            .post_form("subscriptions/list", &[])
            .await
            .text()
            .await
            .unwrap();
        let shown = format!("{d}{listed}");
        assert!(!shown.contains(&all.secret) && !shown.contains("whsec_"));
    }
);

both_backends!(
    failures_are_retried_with_backoff_then_dead_lettered_for_a_person,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        let receiver = Receiver::start().await;
        let sub = subscribe(&app, "Flaky", &receiver.url("flaky"), &[], "", "3").await;

        // 500 every time: three attempts, each wait longer than half the previous doubling.
        receiver.answer(Answer::Status(500));
        let a = ShipmentId::generate();
        command(&app.store, a, schedule_command(a, "Lyon", "Milan")).await;
        let d = wait_for_detail(&app, sub.id, "a dead letter", |d| d["summary"]["dead"] == 1).await;
        let attempts = receiver.received_on("flaky");
        assert_eq!(attempts.len(), 3);
        // Equal jitter: a wait is at least half its doubling (base 50 ms: 25 ms, then 50 ms).
        assert!(attempts[1].at - attempts[0].at >= Duration::from_millis(25));
        assert!(attempts[2].at - attempts[1].at >= Duration::from_millis(50));
        let dead = &d["dead"][0];
        assert_eq!(dead["attempts"], 3);
        assert_eq!(dead["last_status_code"], 500);
        assert!(d["summary"]["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains("HTTP 500"));

        // A 404 is final at once; a receiver that hangs is timed out and retried.
        receiver.answer(Answer::Status(404));
        let b = ShipmentId::generate();
        command(&app.store, b, schedule_command(b, "Lyon", "Milan")).await;
        wait_for_detail(&app, sub.id, "a second dead letter", |d| {
            d["summary"]["dead"] == 2
        })
        .await;
        assert_eq!(
            receiver
                .received()
                .iter()
                .filter(|r| r.stream() == b.to_string())
                .count(),
            1
        );
        receiver.answer(Answer::Ok);
        let c = ShipmentId::generate();
        receiver.answer_stream("flaky", &c.to_string(), &[Answer::Hang]);
        command(&app.store, c, schedule_command(c, "Lyon", "Milan")).await;
        let got = receiver
            .wait_for("flaky", "the hung delivery retried", |got| {
                got.iter()
                    .any(|r| r.stream() == c.to_string() && r.succeeded())
            })
            .await;
        assert_eq!(
            got.iter().filter(|r| r.stream() == c.to_string()).count(),
            2
        );

        // The receiver recovered: an admin retries the first dead letter and discards the other.
        let dead_ids: Vec<i64> = detail(&app, sub.id).await["dead"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_i64().unwrap())
            .collect();
        assert_eq!(dead_ids.len(), 2);
        let (sid, first_dead, second_dead) = (
            sub.id.to_string(),
            dead_ids[0].to_string(),
            dead_ids[1].to_string(),
        );
        let retried = app
            .post_form(
                "subscriptions/retry",
                &[("id", &sid), ("delivery", &first_dead)],
            )
            .await;
        assert!(retried.status().is_success());
        let discarded = app
            .post_form(
                "subscriptions/discard",
                &[("id", &sid), ("delivery", &second_dead)],
            )
            .await;
        assert!(discarded.status().is_success());
        receiver
            .wait_for("flaky", "the retried dead letter delivered", |got| {
                got.iter()
                    .any(|r| r.stream() == a.to_string() && r.succeeded())
            })
            .await;
        let d = wait_for_detail(&app, sub.id, "no dead letters", |d| {
            d["summary"]["dead"] == 0 && d["summary"]["pending"] == 0
        })
        .await;
        let actions: Vec<&str> = d["audit"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["action"].as_str().unwrap())
            .collect();
        assert!(actions.contains(&"retried delivery") && actions.contains(&"discarded delivery"));
        // Acting again on what is no longer a dead letter is refused, with the reason.
        let again = app
            .post_form(
                "subscriptions/discard",
                &[("id", &sid), ("delivery", &first_dead)],
            )
            .await;
        assert_eq!(again.status(), 422, "{}", again.text().await.unwrap());
        let unknown = app
            .post_form(
                "subscriptions/retry",
                &[("id", &sid), ("delivery", "999999")],
            )
            .await;
        assert_eq!(unknown.status(), 404);
    }
);

both_backends!(
    pause_holds_deliveries_and_resume_sends_what_happened_meanwhile,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        let receiver = Receiver::start().await;
        let sub = subscribe(&app, "Pausable", &receiver.url("p"), &[], "", "").await;
        let sid = sub.id.to_string();
        assert!(app
            .post_form("subscriptions/pause", &[("id", &sid)])
            .await
            .status()
            .is_success());
        let again = app.post_form("subscriptions/pause", &[("id", &sid)]).await;
        assert_eq!(again.status(), 422, "pausing twice is refused");
        let id = whole_journey(&app.store, "Gdansk").await;
        let test = app.post_form("subscriptions/test", &[("id", &sid)]).await;
        assert!(test.text().await.unwrap().contains("paused"));
        // A paused subscription is looked at on every append and every poll interval; nothing
        // shows the runner has looked, so give it five polls' time (half a second in tests).
        tokio::time::sleep(test_intervals().webhook_poll * 5).await;
        assert!(
            receiver.received().is_empty(),
            "nothing goes out while paused"
        );

        assert!(app
            .post_form("subscriptions/resume", &[("id", &sid)])
            .await
            .status()
            .is_success());
        let got = receiver
            .wait_for("p", "the journey and the test event", |got| got.len() == 5)
            .await;
        assert_eq!(delivered_versions(&got)[&id.to_string()], vec![1, 2, 3, 4]);
        let test_event = got
            .iter()
            .find(|r| r.doc["test"] == true)
            .expect("the test event");
        assert_eq!(test_event.doc["event"]["type"], "WebhookTest");
        verify(&sub.secret, test_event);
        // The test event was delivered too, but it counts in none of the subscription's
        // figures: they are about the partner receiving shipment events.
        wait_for_detail(&app, sub.id, "the journey counted, the test not", |d| {
            d["summary"]["delivered"] == 4 && d["summary"]["pending"] == 0
        })
        .await;
    }
);

both_backends!(
    a_rewind_re_sends_from_a_position_once_the_name_is_typed,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        let receiver = Receiver::start().await;
        let sub = subscribe(&app, "Rewindable", &receiver.url("r"), &[], "", "").await;
        let id = whole_journey(&app.store, "Porto").await;
        let got = receiver
            .wait_for("r", "the journey", |got| got.len() == 4)
            .await;
        let third = got.iter().find(|r| r.version() == 3).unwrap().doc["event"]["position"]
            .as_i64()
            .unwrap()
            .to_string();
        let sid = sub.id.to_string();

        let unconfirmed = app
            .post_form(
                "subscriptions/rewind",
                &[("id", &sid), ("to", &third), ("confirm", "nope")],
            )
            .await;
        assert_eq!(unconfirmed.status(), 400);
        assert!(unconfirmed.text().await.unwrap().contains("confirm"));
        let nonsense = app
            .post_form(
                "subscriptions/rewind",
                &[("id", &sid), ("to", "soon"), ("confirm", "Rewindable")],
            )
            .await;
        assert_eq!(nonsense.status(), 400);

        let rewound = app
            .post_form(
                "subscriptions/rewind",
                &[("id", &sid), ("to", &third), ("confirm", "Rewindable")],
            )
            .await;
        assert!(
            rewound.status().is_success(),
            "{}",
            rewound.text().await.unwrap()
        );
        let got = receiver
            .wait_for("r", "versions 3 and 4 again", |got| got.len() == 6)
            .await;
        assert_eq!(
            delivered_versions(&got)[&id.to_string()],
            vec![1, 2, 3, 4, 3, 4]
        );
        assert_ne!(
            got[2].header(DELIVERY_HEADER),
            got[4].header(DELIVERY_HEADER),
            "a re-send is a new delivery"
        );
        assert_eq!(got[2].event_id(), got[4].event_id());

        // By time: from a moment before everything, all four again.
        let rewound = app
            .post_form(
                "subscriptions/rewind",
                &[
                    ("id", &sid),
                    ("to", "2000-01-01T00:00"),
                    ("confirm", "Rewindable"),
                ],
            )
            .await;
        assert!(rewound.status().is_success());
        receiver
            .wait_for("r", "all four again", |got| got.len() == 10)
            .await;
        let d = detail(&app, sub.id).await;
        assert_eq!(d["audit"][0]["action"], "rewound");
    }
);

// Rebuilding every projection version and cutting over while a subscription is active sends
// nothing again: the subscription's checkpoint is its own.
both_backends!(
    projection_rebuilds_and_cutovers_send_nothing_twice,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        let receiver = Receiver::start().await;
        let steady = subscribe(&app, "Steady", &receiver.url("s"), &[], "", "").await;
        let mut expected = 0;
        for origin in ["Oslo", "Bergen", "Turku"] {
            whole_journey(&app.store, origin).await;
            expected += 4;
        }
        receiver
            .wait_for("s", "the first journeys", |got| got.len() == expected)
            .await;

        let (_, total) = app.store.head().await.unwrap();
        for def in Definition::ALL {
            operator::request_rebuild(&app.projections, def, "ada", total)
                .await
                .unwrap();
        }
        whole_journey(&app.store, "Tallinn").await;
        expected += 4;
        wait_rebuilds_done(&app.projections).await;
        wait_caught_up(&app.store, &app.projections, &Definition::ALL).await;
        cut_over_to_board_v2(&app).await;
        whole_journey(&app.store, "Riga").await;
        expected += 4;
        wait_caught_up(&app.store, &app.projections, &Definition::ALL).await;

        let got = receiver
            .wait_for("s", "every event once", |got| got.len() >= expected)
            .await;
        // Nothing more can arrive once the subscription has read the whole log and has nothing
        // pending: a re-send would need a delivery beyond the ones counted here.
        let settled = wait_for_detail(&app, steady.id, "the subscription to settle", |d| {
            d["summary"]["lag_events"] == 0 && d["summary"]["pending"] == 0
        })
        .await;
        assert_eq!(settled["summary"]["delivered"], expected, "{settled:#}");
        let got_after = receiver.received_on("s");
        assert_eq!(got_after.len(), got.len(), "nothing more arrives");
        let mut per_event: HashMap<String, usize> = HashMap::new();
        for r in &got_after {
            *per_event.entry(r.event_id()).or_default() += 1;
        }
        assert_eq!(per_event.len(), expected);
        assert!(
            per_event.values().all(|n| *n == 1),
            "each event exactly once"
        );
    }
);

/// Compares, accepts what differs, and cuts the board over to version 2.
pub(crate) async fn cut_over_to_board_v2(app: &TestApp) {
    let db = &app.projections;
    let diffs = rollout::compare_with_live(db, "shipment_board")
        .await
        .unwrap();
    if diffs.iter().any(|d| !d.identical()) {
        operator::acknowledge_differences(db, Definition::ShipmentBoardV2, "ada")
            .await
            .unwrap();
    }
    operator::cut_over(db, &app.store, Definition::ShipmentBoardV2, "ada")
        .await
        .unwrap();
}

async fn wait_rebuilds_done(db: &PortableDb) {
    eventually("the rebuilds to finish", async || {
        let rows = freightdesk::projections::versions::load_all(db)
            .await
            .unwrap();
        let running: Vec<String> = rows
            .iter()
            .filter(|r| r.rebuild.is_some())
            .map(|r| r.def.key())
            .collect();
        if running.is_empty() {
            Ok(())
        } else {
            Err(running)
        }
    })
    .await
}

/// Two real nodes on one PostgreSQL database: the subscription runs on one, and after that one
/// is killed with SIGKILL the other takes it over; nothing is lost, and duplicates stay within
/// one in-flight batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_nodes_subscription_is_taken_over() {
    let url = fresh_postgres_url().await;
    let freightdesk::database::Database { store, db } = crate::helpers::open(&url).await;
    let receiver = Receiver::start().await;
    let spawn = |name: &str| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_freightdesk"))
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("FREIGHTDESK_ADDR", "127.0.0.1:0")
            .env("FREIGHTDESK_NODE", name)
            .env("FREIGHTDESK_PROJECTIONS", "")
            .env("FREIGHTDESK_WEBHOOK_ALLOW_PRIVATE", "1")
            .env("FREIGHTDESK_WEBHOOK_RETRY_BASE_MS", "50")
            .env("LEPTOS_OUTPUT_NAME", "freightdesk")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start a node")
    };
    let mut a = spawn("node-a");
    // Node b starts once node a holds the lease, so the victim is known.
    let config = WebhookConfig {
        allow_private_targets: true,
        ..WebhookConfig::default()
    };
    let input = operations::SubscriptionInput {
        name: "Failover".into(),
        target_url: receiver.url("f"),
        event_types: vec![],
        place_filter: String::new(),
        max_attempts: String::new(),
    };
    operations::create(&db, &store, &config, "test", input)
        .await
        .unwrap();
    let owner = async || {
        operations::find_by_name(&db, "Failover")
            .await
            .unwrap()
            .owner
    };
    eventually("node-a to take the subscription", async || {
        match owner().await {
            Some(node) if node == "node-a" => Ok(()),
            other => Err(other),
        }
    })
    .await;
    let mut b = spawn("node-b");

    let mut journeys = Vec::new();
    for i in 0..5 {
        journeys.push(whole_journey(&store, &format!("Before {i}")).await);
    }
    a.start_kill().unwrap(); // SIGKILL: no chance to hand anything over
    let _ = a.wait().await;
    for i in 0..5 {
        journeys.push(whole_journey(&store, &format!("After {i}")).await);
    }
    let got = receiver
        .wait_for("f", "all 40 events", |got| {
            let mut ids: Vec<String> = got.iter().map(Received::event_id).collect();
            ids.sort();
            ids.dedup();
            ids.len() == 40
        })
        .await;
    assert_eq!(owner().await.as_deref(), Some("node-b"));
    let duplicates = got.len() - 40;
    assert!(
        duplicates <= 16,
        "at most one in-flight batch (4 × concurrency) is sent twice; got {duplicates}"
    );
    for id in &journeys {
        let versions: Vec<i64> = got
            .iter()
            .filter(|r| r.stream() == id.to_string())
            .map(Received::version)
            .collect();
        let mut sorted = versions.clone();
        sorted.sort();
        assert_eq!(
            versions, sorted,
            "order per shipment survives the take-over"
        );
    }
    b.start_kill().unwrap();
}

/// Targets that point inside the network are refused: as typed (an IP literal) and after DNS
/// (a name that resolves to loopback), unless the setting allows them.
#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let receiver = Receiver::start().await;
    let port = receiver.base.rsplit(':').next().unwrap().to_string();
    assert!(target::parse_target_url(&receiver.url("x"), false).is_err());
    assert!(target::parse_target_url(&receiver.url("x"), true).is_ok());

    let guarded = target::client(&WebhookConfig::default()).unwrap();
    let by_name = format!("http://localhost:{port}/x");
    let error = guarded
        .post(&by_name)
        .body("{}")
        .send()
        .await
        .expect_err("refused");
    let reason = target::blocked_reason(&error).expect("refused by the resolver");
    assert!(reason.contains("localhost"), "{reason}");
    assert!(
        receiver.received().is_empty(),
        "no request reached the receiver"
    );

    let allowed = target::client(&WebhookConfig {
        allow_private_targets: true,
        ..WebhookConfig::default()
    })
    .unwrap();
    let response = allowed.post(&by_name).body("{}").send().await.unwrap();
    assert!(response.status().is_success());

    // No redirect is followed: a 3xx is what the sender sees.
    let redirecting = axum::Router::new().route(
        "/",
        axum::routing::post(|| async {
            axum::response::Redirect::temporary("http://example.com/")
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, redirecting).await.unwrap() });
    let response = allowed
        .post(format!("http://{addr}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 307);
}

/// Creating checks every field at once and keeps what was typed.
#[tokio::test]
async fn a_bad_subscription_form_names_every_field() {
    let app = spawn_app(Dialect::Sqlite).await;
    let response = app
        .post_form(
            "subscriptions/create",
            &[
                ("name", ""),
                ("target_url", "ftp://partner.example/"),
                ("event_types[0]", "ShipmentTeleported"),
                ("max_attempts", "0"),
            ],
        )
        .await;
    assert_eq!(response.status(), 400);
    let body = response.text().await.unwrap();
    for field in [
        "\"name\"",
        "\"target_url\"",
        "\"event_types\"",
        "\"max_attempts\"",
    ] {
        assert!(body.contains(field), "{field} in {body}");
    }
    let receiver = Receiver::start().await;
    subscribe(&app, "Once", &receiver.url("o"), &[], "", "").await;
    let taken = app
        .post_form(
            "subscriptions/create",
            &[("name", "Once"), ("target_url", &receiver.url("o"))],
        )
        .await;
    assert_eq!(taken.status(), 400);
    assert!(taken.text().await.unwrap().contains("already taken"));
    let unknown = app
        .post_form("subscriptions/detail", &[("id", "4242")])
        .await;
    assert_eq!(unknown.status(), 404);
    let dispatcher = app.signed_in(crate::helpers::DISPATCHER).await;
    let refused = app
        .post_form_as(&dispatcher, "subscriptions/list", &[])
        .await;
    assert_eq!(refused.status(), 403);
}

fn cli(database_url: &str, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_freightdesk"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env_remove("FREIGHTDESK_WEBHOOK_ALLOW_PRIVATE")
        .output()
        .expect("run freightdesk");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The CLI manages subscriptions as the page does: the secret printed once, the list without it.
#[tokio::test]
async fn subscriptions_are_managed_from_the_command_line() {
    let (url, _dir) = crate::helpers::fresh_database_url(Dialect::Sqlite).await;
    let add = |extra: &[&str]| {
        let mut args = vec![
            "subscriptions",
            "add",
            "Yard",
            "--url",
            "http://127.0.0.1:9/hook",
        ];
        args.extend_from_slice(extra);
        cli(&url, &args)
    };
    let (ok, out) = add(&[]);
    assert!(
        !ok && out.contains("private"),
        "loopback refused by default: {out}"
    );
    let (ok, out) = add(&[
        "--allow-private",
        "--events",
        "ShipmentPickedUp,ShipmentDelivered",
    ]);
    assert!(ok, "{out}");
    let secret = out
        .split_whitespace()
        .find(|w| w.starts_with("whsec_"))
        .expect("the secret is printed once");
    let (ok, out) = cli(&url, &["subscriptions", "list"]);
    assert!(
        ok && out.contains("Yard") && out.contains("active"),
        "{out}"
    );
    assert!(!out.contains(secret));
    let (ok, out) = cli(&url, &["subscriptions", "pause", "Yard"]);
    assert!(ok && out.contains("paused"), "{out}");
    let (ok, out) = cli(&url, &["subscriptions", "pause", "Yard"]);
    assert!(!ok && out.contains("already paused"), "{out}");
    let (ok, out) = cli(&url, &["subscriptions", "rewind", "Yard", "--to", "1"]);
    assert!(
        !ok && out.contains("no event"),
        "an empty log has nothing to re-send: {out}"
    );
    let (ok, out) = cli(&url, &["subscriptions", "resume", "Nobody"]);
    assert!(!ok && out.contains("no subscription Nobody"), "{out}");
    let (ok, out) = cli(&url, &["subscriptions", "remove", "Yard"]);
    assert!(ok && out.contains("deleted"), "{out}");
    let (ok, out) = cli(&url, &["subscriptions", "list"]);
    assert!(ok && !out.contains("Yard"), "{out}");
}
