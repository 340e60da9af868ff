//! `freightdesk migrate`: a real installation on SQLite (events, users, a paused subscription
//! part-way through the log, board version 2 cut over) moved by the real binary into an empty
//! PostgreSQL database, then served from there.

use crate::helpers::{
    fresh_postgres_url, spawn_app, spawn_app_on_populated, wait_caught_up, Dialect, TestApp,
    DISPATCHER,
};
use crate::receiver::Receiver;
use crate::subscriptions::{cut_over_to_board_v2, subscribe, verify, whole_journey};
use freightdesk::domain::ShipmentId;
use freightdesk::projections::Definition;
use freightdesk::subscriptions::{operations, SubscriptionState};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

fn migrate(sqlite_url: &str, postgres_url: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_freightdesk"))
        .args([
            "--database-url",
            sqlite_url,
            "migrate",
            "--to",
            postgres_url,
        ])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run freightdesk");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn event_ids(app: &TestApp, shipments: &[ShipmentId]) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for s in shipments {
        for e in app.store.read_stream(s.as_uuid(), 0).await.unwrap() {
            ids.insert(e.id.to_string());
        }
    }
    ids
}

async fn board(app: &TestApp) -> Value {
    let response = app.post_form("shipments/board", &[]).await;
    assert_eq!(response.status(), 200);
    let mut board: Value = response.json().await.unwrap();
    board["catching_up"] = Value::Null;
    board
}

async fn set_state(app: &TestApp, id: i64, state: SubscriptionState) {
    operations::set_state(&app.projections, "ada", id, state)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_installation_moves_from_sqlite_to_postgres_and_carries_on() {
    let mut old = spawn_app(Dialect::Sqlite).await;
    let before = whole_journey(&old.store, "Before").await;
    let receiver = Receiver::start().await;
    let hook = receiver.url("hook");
    let created = subscribe(&old, "partner", &hook, &[], "", "").await;
    let during = whole_journey(&old.store, "During").await;
    receiver
        .wait_for("hook", "the events after subscribing", |got| got.len() == 4)
        .await;
    // Paused part-way: the next shipment's events are in the log, not yet read.
    set_state(&old, created.id, SubscriptionState::Paused).await;
    let paused = whole_journey(&old.store, "Paused").await;
    wait_caught_up(&old.store, &old.projections, &Definition::ALL).await;
    cut_over_to_board_v2(&old).await;
    let old_board = board(&old).await;
    assert_eq!(old_board["served_by"], "shipment_board@2");
    let old_head = old.store.head().await.unwrap();
    old.workers.take().unwrap().shutdown().await;

    let postgres = fresh_postgres_url().await;
    let (ok, out) = migrate(&old.database_url, &postgres);
    assert!(ok, "{out}");
    for key in ["shipment_board@1", "shipment_board@2", "daily_shipments@1"] {
        let line = out.lines().find(|l| l.starts_with(key)).unwrap_or_default();
        assert!(
            line.contains("equals the old table row by row"),
            "{key}: {out}"
        );
    }
    assert!(out.contains("shipment_board@2 (live"), "{out}");
    assert!(
        out.contains("subscription partner continues after position"),
        "{out}"
    );
    assert!(out.contains("copied 2 rows of users"), "{out}");
    // Again: the target is not empty any more, and nothing in it changes.
    let (ok, again) = migrate(&old.database_url, &postgres);
    assert!(!ok && again.contains("not empty"), "{again}");
    // The source was only read.
    assert_eq!(old.store.head().await.unwrap(), old_head);

    // Served from PostgreSQL: the old passwords sign in (spawning signs the admin in).
    let new = spawn_app_on_populated(postgres).await;
    new.signed_in(DISPATCHER).await;
    assert_eq!(new.store.head().await.unwrap(), old_head);
    wait_caught_up(&new.store, &new.projections, &Definition::ALL).await;
    assert_eq!(
        board(&new).await,
        old_board,
        "the board shows the same rows"
    );

    // The subscription carries on from where it stopped: the paused shipment's events and the
    // new ones, each once, with the same secret; nothing from before is sent again.
    set_state(&new, created.id, SubscriptionState::Active).await;
    let after = whole_journey(&new.store, "After").await;
    let expected = event_ids(&new, &[during, paused, after]).await;
    let got = receiver
        .wait_for("hook", "the rest of the events", |got| {
            let ids: BTreeSet<String> = got.iter().map(|r| r.event_id()).collect();
            ids.is_superset(&expected)
        })
        .await;
    let mut per_event: BTreeMap<String, usize> = BTreeMap::new();
    for r in &got {
        verify(&created.secret, r);
        *per_event.entry(r.event_id()).or_default() += 1;
    }
    assert_eq!(per_event.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(per_event.values().all(|&n| n == 1), "{per_event:?}");
    let never = event_ids(&new, &[before]).await;
    assert!(never.iter().all(|id| !per_event.contains_key(id)));
    // The outbox says the same: one delivery per event, none for the events before.
    let outbox: Vec<String> = sqlx::query_scalar("SELECT event_id FROM webhook_deliveries")
        .fetch_all(new.projections.read())
        .await
        .unwrap();
    assert_eq!(outbox.len(), expected.len(), "{outbox:?}");
    assert_eq!(outbox.into_iter().collect::<BTreeSet<_>>(), expected);
}
