//! Gap safety of reading the whole log on PostgreSQL: an event whose transaction commits late
//! is read once, after it commits; nothing else (another append, an unrelated transaction in
//! this database or another) holds a reader back; pages through a large read skip nothing.
//! Its own test binary: it holds transactions open on purpose.

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

async fn append(store: &EventStore, stream: Uuid, expected: ExpectedVersion, tag: &str) {
    store
        .append_with_expected_version(stream, "Test", expected, &[event(tag)], &meta())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_late_commit_is_read_once_after_it_commits_and_holds_back_only_itself() {
    let (store, url) = fresh_store().await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    for id in [a, b] {
        append(&store, id, ExpectedVersion::NoStream, "setup").await;
    }
    let start = store.read_all(&Checkpoint::START, 100).await.unwrap();
    assert_eq!(start.events.len(), 2);
    let checkpoint = start.next;

    // A appends and stays open; B appends to another stream and commits.
    let mut tx_a = PgConnection::connect(&url).await.unwrap();
    open_append(&mut tx_a, a, 1, "A").await;
    append(&store, b, ExpectedVersion::Exactly(1), "B").await;
    // B committed with a higher sequence number while A is open: B is read now, A is not.
    let while_open = store.read_all(&checkpoint, 100).await.unwrap();
    assert_eq!(
        tags(&while_open),
        ["B"],
        "only A's own transaction may delay A"
    );
    let checkpoint = while_open.next;
    let nothing = store.read_all(&checkpoint, 100).await.unwrap();
    assert!(
        nothing.events.is_empty(),
        "read twice: {:?}",
        tags(&nothing)
    );

    sqlx::query("COMMIT").execute(&mut tx_a).await.unwrap();
    let after_commit = store.read_all(&checkpoint, 100).await.unwrap();
    assert_eq!(tags(&after_commit), ["A"], "the late commit, once");
    let checkpoint = after_commit.next;
    assert!(store
        .read_all(&checkpoint, 100)
        .await
        .unwrap()
        .events
        .is_empty());

    // Same again, but A rolls back: B is read at once, A never, nothing waits for a timer.
    open_append(&mut tx_a, a, 2, "A2").await;
    append(&store, b, ExpectedVersion::Exactly(2), "B2").await;
    let b2 = store.read_all(&checkpoint, 100).await.unwrap();
    assert_eq!(tags(&b2), ["B2"]);
    sqlx::query("ROLLBACK").execute(&mut tx_a).await.unwrap();
    assert!(store
        .read_all(&b2.next, 100)
        .await
        .unwrap()
        .events
        .is_empty());
}

/// A write transaction left open (as a forgotten `psql` session would), here and in another
/// database of the same server, holds nothing back.
#[tokio::test]
async fn an_unrelated_open_transaction_holds_nothing_back() {
    let (store, url) = fresh_store().await;
    let (_, other_url) = fresh_store().await;
    let stream = Uuid::new_v4();
    append(&store, stream, ExpectedVersion::NoStream, "first").await;
    let checkpoint = store.read_all(&Checkpoint::START, 100).await.unwrap().next;

    let mut here = PgConnection::connect(&url).await.unwrap();
    let mut elsewhere = PgConnection::connect(&other_url).await.unwrap();
    for conn in [&mut here, &mut elsewhere] {
        sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
        // A write gives the transaction an xid, as any real write would.
        sqlx::query("CREATE TABLE forgotten (id int)")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    let mut checkpoint = checkpoint;
    for version in 1..=5 {
        let tag = format!("while-open-{version}");
        append(&store, stream, ExpectedVersion::Exactly(version), &tag).await;
        let batch = store.read_all(&checkpoint, 100).await.unwrap();
        assert_eq!(
            tags(&batch),
            [tag],
            "every later event is read while they stay open"
        );
        checkpoint = batch.next;
    }
    let (behind, _) = store.backlog(&checkpoint).await.unwrap();
    assert_eq!(behind, 0);
    for conn in [&mut here, &mut elsewhere] {
        sqlx::query("ROLLBACK").execute(&mut *conn).await.unwrap();
    }
}

/// Many writers whose transactions stay open for different times, read by a reader with
/// small pages: every committed event is read exactly once, each stream in version order,
/// and a checkpoint's backlog and read-your-writes agree with what was read.
#[tokio::test]
async fn concurrent_late_commits_read_in_pages_are_read_exactly_once_in_stream_order() {
    let (store, url) = fresh_store().await;
    const WRITERS: usize = 6;
    const APPENDS: i64 = 15;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut conn = PgConnection::connect(&url).await.unwrap();
                let stream = Uuid::new_v4();
                sqlx::query("INSERT INTO streams (id, kind, version) VALUES ($1, 'Test', 0)")
                    .bind(stream)
                    .execute(&mut conn)
                    .await
                    .unwrap();
                for v in 0..APPENDS {
                    open_append(&mut conn, stream, v, &format!("{w}")).await;
                    // Open for 0–9 ms, differently per writer and append.
                    let hold = (w as u64 * 7 + v as u64 * 3) % 10;
                    tokio::time::sleep(std::time::Duration::from_millis(hold)).await;
                    let end = if (w + v as usize) % 5 == 4 {
                        "ROLLBACK"
                    } else {
                        "COMMIT"
                    };
                    sqlx::query(end).execute(&mut conn).await.unwrap();
                    if end == "ROLLBACK" {
                        // Try the same version again, committed this time.
                        open_append(&mut conn, stream, v, &format!("{w}")).await;
                        sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
                    }
                }
                stream
            })
        })
        .collect();

    let mut checkpoint = Checkpoint::START;
    let mut seen: std::collections::HashMap<Uuid, Vec<i64>> = Default::default();
    let mut ids = std::collections::HashSet::new();
    let mut read = 0;
    let expected_total = WRITERS as i64 * APPENDS;
    while read < expected_total {
        let batch = store.read_all(&checkpoint, 4).await.unwrap();
        for e in &batch.events {
            assert!(ids.insert(e.id), "event {} read twice", e.position.seq);
            assert!(store.has_passed(&batch.next, e.position.seq).await.unwrap());
            seen.entry(e.stream_id).or_default().push(e.version);
            read += 1;
        }
        checkpoint = batch.next;
        if batch.events.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }
    for w in writers {
        let stream = w.await.unwrap();
        assert_eq!(
            seen.get(&stream).cloned().unwrap_or_default(),
            (1..=APPENDS).collect::<Vec<_>>(),
            "stream {stream}: every version once, in order"
        );
    }
    assert!(store
        .read_all(&checkpoint, 4)
        .await
        .unwrap()
        .events
        .is_empty());
    assert_eq!(store.backlog(&checkpoint).await.unwrap().0, 0);
}
