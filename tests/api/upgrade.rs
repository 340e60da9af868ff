//! A database made by the previous release keeps its readers' progress: its checkpoints,
//! numbers (tx, seq) in the old reading order, become snapshot checkpoints at start-up that
//! have read exactly the same events. No projection version starts over, no webhook is sent
//! again, no event is applied twice.

use crate::helpers::{fresh_database_url, open, Dialect};
use freightdesk::store::{Checkpoint, EventStore};
use serde_json::json;
use sqlx::migrate::Migrator;
use sqlx::Connection;
use std::borrow::Cow;
use uuid::Uuid;

/// The first migration of this release: the previous release's set is everything before it.
const FIRST_NEW_MIGRATION: i64 = 20261203000001;

fn previous_release(mut migrator: Migrator) -> Migrator {
    let old: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < FIRST_NEW_MIGRATION)
        .cloned()
        .collect();
    migrator.migrations = Cow::Owned(old);
    migrator
}

/// Writes events as the previous release did: one transaction per group, the stream row
/// first. Returns every event's (tx, seq) in the old reading order, (tx_id, seq).
async fn old_log(conn: &mut sqlx::PgConnection, groups: &[usize]) -> Vec<(i64, i64)> {
    for &size in groups {
        let stream = Uuid::new_v4();
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("INSERT INTO streams (id, kind, version) VALUES ($1, 'Shipment', $2)")
            .bind(stream)
            .bind(size as i64)
            .execute(&mut *tx)
            .await
            .unwrap();
        for version in 1..=size as i64 {
            sqlx::query(
                "INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata)
                 VALUES ($1, $2, $3, 'ShipmentPickedUp', 1, $4, $5)",
            )
            .bind(Uuid::new_v4())
            .bind(stream)
            .bind(version)
            .bind(json!({"picked_up_at": "2026-11-28T10:00:00Z"}))
            .bind(json!({"actor": "old", "correlation_id": Uuid::new_v4(), "causation_id": null, "command": "Old"}))
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    sqlx::query_as("SELECT tx_id::text::bigint, seq FROM events ORDER BY tx_id, seq")
        .fetch_all(&mut *conn)
        .await
        .unwrap()
}

/// Everything a reader from `checkpoint` reads, in pages of two.
async fn read_rest(store: &EventStore, mut checkpoint: Checkpoint) -> Vec<i64> {
    let mut seqs = Vec::new();
    loop {
        let batch = store.read_all(&checkpoint, 2).await.unwrap();
        if batch.events.is_empty() {
            return seqs;
        }
        seqs.extend(batch.events.iter().map(|e| e.position.seq));
        checkpoint = batch.next;
    }
}

async fn stored_checkpoint(conn: &mut sqlx::PgConnection, sql: &str) -> Checkpoint {
    let (text, seq): (String, i64) = sqlx::query_as(sql).fetch_one(&mut *conn).await.unwrap();
    Checkpoint::from_stored(&text, seq).unwrap()
}

#[tokio::test]
async fn postgres_checkpoints_of_the_previous_release_keep_their_progress_exactly() {
    let (url, _dir) = fresh_database_url(Dialect::Postgres).await;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    previous_release(sqlx::migrate!("./migrations/postgres"))
        .run(&mut conn)
        .await
        .unwrap();
    // A three-event transaction in the middle, so a checkpoint can sit inside one.
    let order = old_log(&mut conn, &[1, 1, 3, 1, 2]).await;
    assert_eq!(order.len(), 8);
    // The live version stopped inside the three-event transaction, the rebuild after the
    // second event, the subscription at the end of the log, the candidate at the start.
    let (mid, early, end) = (order[3], order[1], order[7]);
    sqlx::query(
        "INSERT INTO projection_versions (name, version, state, physical_table, checkpoint_tx,
             checkpoint_seq, events_applied, rebuild_table, rebuild_tx, rebuild_seq, updated_at)
         VALUES ('shipment_board', 1, 'live', 'shipment_board_v1', $1, $2, 4,
                 'shipment_board_v1_r1', $3, $4, '2026-12-01T00:00:00.000000Z'),
                ('shipment_board', 2, 'building', 'shipment_board_v2', 0, 0, 0,
                 NULL, 0, 0, '2026-12-01T00:00:00.000000Z')",
    )
    .bind(mid.0)
    .bind(mid.1)
    .bind(early.0)
    .bind(early.1)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO subscriptions (name, target_url, event_types, place_filter, secret, state,
             max_attempts, checkpoint_tx, checkpoint_seq, created_at, created_by)
         VALUES ('partner', 'https://partner.example/hook', '', '', 's', 'active', 5, $1, $2,
                 '2026-12-01T00:00:00.000000Z', 'ada')",
    )
    .bind(end.0)
    .bind(end.1)
    .execute(&mut conn)
    .await
    .unwrap();

    // Start-up of the new release: the remaining migrations convert the checkpoints.
    let store = open(&url).await.store;
    let after = |at: usize| order[at + 1..].iter().map(|p| p.1).collect::<Vec<_>>();
    let live = stored_checkpoint(
        &mut conn,
        "SELECT checkpoint_snapshot, checkpoint_seq FROM projection_versions WHERE version = 1",
    )
    .await;
    let rebuild = stored_checkpoint(
        &mut conn,
        "SELECT rebuild_snapshot, rebuild_seq FROM projection_versions WHERE version = 1",
    )
    .await;
    let candidate = stored_checkpoint(
        &mut conn,
        "SELECT checkpoint_snapshot, checkpoint_seq FROM projection_versions WHERE version = 2",
    )
    .await;
    let subscription = stored_checkpoint(
        &mut conn,
        "SELECT checkpoint_snapshot, checkpoint_seq FROM subscriptions",
    )
    .await;
    assert_eq!(candidate, Checkpoint::START);

    for (what, checkpoint, at) in [
        ("live version", &live, 3),
        ("rebuild", &rebuild, 1),
        ("subscription", &subscription, 7),
    ] {
        assert_eq!(
            read_rest(&store, checkpoint.clone()).await,
            after(at),
            "{what} reads exactly what it had not read"
        );
        assert_eq!(store.backlog(checkpoint).await.unwrap().0, (7 - at) as i64);
        for (i, (_, seq)) in order.iter().enumerate() {
            assert_eq!(
                store.has_passed(checkpoint, *seq).await.unwrap(),
                i <= at,
                "{what}: event {seq}"
            );
        }
    }
    let everything: Vec<i64> = order.iter().map(|p| p.1).collect();
    assert_eq!(read_rest(&store, candidate).await, everything);
}

/// On SQLite the checkpoint was always (0, seq): the seq alone carries over.
#[tokio::test]
async fn sqlite_checkpoints_of_the_previous_release_keep_their_seq() {
    let (url, _dir) = fresh_database_url(Dialect::Sqlite).await;
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
    let mut conn = sqlx::SqliteConnection::connect_with(&options.clone().create_if_missing(true))
        .await
        .unwrap();
    previous_release(sqlx::migrate!("./migrations/sqlite"))
        .run(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO projection_versions (name, version, state, physical_table, checkpoint_tx,
             checkpoint_seq, updated_at)
         VALUES ('shipment_board', 1, 'live', 'shipment_board_v1', 0, 41,
                 '2026-12-01T00:00:00.000000Z')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let _database = open(&url).await;
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    let (text, seq): (String, i64) =
        sqlx::query_as("SELECT checkpoint_snapshot, checkpoint_seq FROM projection_versions")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        Checkpoint::from_stored(&text, seq).unwrap(),
        Checkpoint {
            seq: 41,
            ..Checkpoint::START
        }
    );
}
