//! Gap safety of reading the whole log on PostgreSQL. Its own test binary: it holds a
//! transaction open on purpose, and on PostgreSQL that holds back every reader in the cluster,
//! which would slow the other integration tests if they ran beside it.

use freightdesk::store::*;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

async fn fresh_store() -> (EventStore, String) {
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is not answering: {e}"));
    let name = format!("fd_test_{}", Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
    let parsed = freightdesk::db::DatabaseUrl::parse(&url).unwrap();
    let database = freightdesk::database::Database::open(&parsed)
        .await
        .unwrap();
    (database.store, url)
}

fn meta() -> EventMetadata {
    EventMetadata {
        actor: "gap-test".into(),
        correlation_id: Uuid::new_v4(),
        causation_id: None,
        command: "Test".into(),
    }
}

fn event(tag: &str) -> NewEvent {
    NewEvent {
        event_type: "ShipmentPickedUp".into(),
        schema_version: 1,
        data: json!({"picked_up_at": "2026-11-28T10:00:00Z", "tag": tag}),
    }
}

/// Starts an append exactly as the store does it (stream row first, then the event) and leaves
/// the transaction open.
async fn open_append(conn: &mut PgConnection, stream: Uuid, expected: i64, tag: &str) {
    sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
    let updated =
        sqlx::query("UPDATE streams SET version = version + 1 WHERE id = $1 AND version = $2")
            .bind(stream)
            .bind(expected)
            .execute(&mut *conn)
            .await
            .unwrap();
    assert_eq!(updated.rows_affected(), 1);
    sqlx::query(
        "INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata)
         VALUES ($1, $2, $3, 'ShipmentPickedUp', 1, $4, $5)",
    )
    .bind(Uuid::new_v4())
    .bind(stream)
    .bind(expected + 1)
    .bind(json!({"picked_up_at": "2026-11-28T10:00:00Z", "tag": tag}))
    .bind(serde_json::to_value(meta()).unwrap())
    .execute(&mut *conn)
    .await
    .unwrap();
}

fn tags(batch: &Batch) -> Vec<String> {
    batch
        .events
        .iter()
        .map(|e| e.data["tag"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_late_commit_is_never_skipped_and_a_rollback_blocks_nothing() {
    let (store, url) = fresh_store().await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    for id in [a, b] {
        store
            .append_with_expected_version(
                id,
                "Test",
                ExpectedVersion::NoStream,
                &[event("setup")],
                &meta(),
            )
            .await
            .unwrap();
    }
    let start = store.read_all(Position::START, 100).await.unwrap();
    assert_eq!(start.events.len(), 2);
    let position = start.next;

    // A appends and stays open; B appends to another stream and commits.
    let mut tx_a = PgConnection::connect(&url).await.unwrap();
    open_append(&mut tx_a, a, 1, "A").await;
    store
        .append_with_expected_version(
            b,
            "Test",
            ExpectedVersion::Exactly(1),
            &[event("B")],
            &meta(),
        )
        .await
        .unwrap();
    // B committed with a higher sequence number, but A may still commit below it: B must wait.
    let while_open = store.read_all(position, 100).await.unwrap();
    assert!(
        while_open.events.is_empty(),
        "read past an open transaction: {:?}",
        tags(&while_open)
    );
    assert_eq!(while_open.next, position);

    sqlx::query("COMMIT").execute(&mut tx_a).await.unwrap();
    let after_commit = store.read_all(position, 100).await.unwrap();
    assert_eq!(
        tags(&after_commit),
        ["A", "B"],
        "both, A first (it began first)"
    );
    let position = after_commit.next;

    // Same again, but A rolls back: B is still read, nothing waits for a timer.
    open_append(&mut tx_a, a, 2, "A2").await;
    store
        .append_with_expected_version(
            b,
            "Test",
            ExpectedVersion::Exactly(2),
            &[event("B2")],
            &meta(),
        )
        .await
        .unwrap();
    assert!(store
        .read_all(position, 100)
        .await
        .unwrap()
        .events
        .is_empty());
    sqlx::query("ROLLBACK").execute(&mut tx_a).await.unwrap();
    let after_rollback = store.read_all(position, 100).await.unwrap();
    assert_eq!(tags(&after_rollback), ["B2"]);
    assert!(store
        .read_all(after_rollback.next, 100)
        .await
        .unwrap()
        .events
        .is_empty());
}
