//! Only an event's own open transaction delays it. A forgotten transaction in this database or
//! another holds nothing back; a session holding a lock freightdesk waits for, and a slow
//! append, are named by the diagnosis; a late commit is read exactly once, after it commits.

use crate::helpers::{eventually, fresh_postgres_url, schedule_command};
use chrono::Utc;
use freightdesk::domain::{ShipmentEvent, ShipmentId, ShipmentScheduled, SHIPMENT_STREAM_KIND};
use freightdesk::stall::{explain, HoldReport, HolderRole};
use freightdesk::store::shipments::{self, CommandContext};
use freightdesk::store::{Checkpoint, EventMetadata, EventStore, ExpectedVersion};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

/// Begins a transaction that schedules a shipment, as an append would, and leaves it open.
/// Returns the event's id.
async fn open_schedule(conn: &mut PgConnection) -> Uuid {
    let id = ShipmentId::generate();
    let event = ShipmentEvent::Scheduled(ShipmentScheduled {
        shipment_id: id,
        origin: "Rotterdam".into(),
        destination: "Basel".into(),
        scheduled_at: Utc::now(),
    });
    let metadata = EventMetadata {
        actor: "forgetful-admin".into(),
        correlation_id: Uuid::new_v4(),
        causation_id: None,
        command: "ScheduleShipment".into(),
    };
    let event_id = Uuid::new_v4();
    sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
    sqlx::query("INSERT INTO streams (id, kind, version) VALUES ($1, $2, 1)")
        .bind(id.as_uuid())
        .bind(SHIPMENT_STREAM_KIND)
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata)
         VALUES ($1, $2, 1, $3, 1, $4, $5)",
    )
    .bind(event_id)
    .bind(id.as_uuid())
    .bind(event.event_type())
    .bind(event.to_json())
    .bind(serde_json::to_value(metadata).unwrap())
    .execute(&mut *conn)
    .await
    .unwrap();
    event_id
}

async fn schedule_through_the_store(store: &EventStore) -> Uuid {
    let id = ShipmentId::generate();
    shipments::execute(
        store,
        id,
        ExpectedVersion::NoStream,
        &schedule_command(id, "Hamburg", "Lyon"),
        &CommandContext::new("stall-test"),
    )
    .await
    .unwrap();
    id.as_uuid()
}

async fn cancel_through_the_store(store: &EventStore, stream: Uuid) {
    use freightdesk::domain::{CancelReason, ShipmentCommand};
    let id = ShipmentId::from_uuid(stream);
    let command = ShipmentCommand::Cancel {
        reason: CancelReason::parse("stall test").unwrap(),
        at: Utc::now(),
    };
    shipments::execute(
        store,
        id,
        ExpectedVersion::Exactly(1),
        &command,
        &CommandContext::new("stall-test"),
    )
    .await
    .unwrap();
}

async fn report(store: &EventStore) -> HoldReport {
    store
        .diagnose_hold()
        .await
        .unwrap()
        .expect("PostgreSQL diagnoses holds")
}

async fn pid_of(conn: &mut PgConnection) -> i32 {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(conn)
        .await
        .unwrap()
}

/// Opens a write transaction that touches nothing freightdesk uses, and leaves it open.
async fn forget_a_transaction(url: &str) -> PgConnection {
    let mut conn = PgConnection::connect(url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
    sqlx::query("CREATE TABLE forgotten (id int)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_transaction_holds_nothing_back_and_is_not_named() {
    let url = fresh_postgres_url().await;
    let other_url = fresh_postgres_url().await;
    let store = crate::helpers::open(&url).await.store;
    let mut here = forget_a_transaction(&url).await;
    let mut elsewhere = forget_a_transaction(&other_url).await;
    let pids = [pid_of(&mut here).await, pid_of(&mut elsewhere).await];

    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(schedule_through_the_store(&store).await);
    }
    let batch = store.read_all(&Checkpoint::START, 100).await.unwrap();
    let read: Vec<Uuid> = batch.events.iter().map(|e| e.stream_id).collect();
    assert_eq!(read, streams, "every event is read while they stay open");

    let held = report(&store).await;
    assert!(
        held.holders.iter().all(|h| !pids.contains(&h.pid)),
        "a transaction that blocks nothing is named: {held:?}"
    );
    assert!(!held.is_held_back(), "{held:?}");
    assert!(explain(&held).contains("does not hold them back"));
    for conn in [&mut here, &mut elsewhere] {
        sqlx::query("ROLLBACK").execute(&mut *conn).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_holding_a_shipments_lock_is_named_and_the_append_waits_only_for_it() {
    let url = fresh_postgres_url().await;
    let store = crate::helpers::open(&url).await.store;
    let locked = schedule_through_the_store(&store).await;
    let other = schedule_through_the_store(&store).await;
    let checkpoint = store.read_all(&Checkpoint::START, 100).await.unwrap().next;

    let mut locker = PgConnection::connect(&url).await.unwrap();
    let pid = pid_of(&mut locker).await;
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query("SELECT version FROM streams WHERE id = $1 FOR UPDATE")
        .bind(locked)
        .execute(&mut locker)
        .await
        .unwrap();
    // A change to the locked shipment waits for the lock; one to another shipment does not.
    let waiting = tokio::spawn({
        let store = store.clone();
        async move { cancel_through_the_store(&store, locked).await }
    });
    cancel_through_the_store(&store, other).await;
    let batch = store.read_all(&checkpoint, 100).await.unwrap();
    let read: Vec<Uuid> = batch.events.iter().map(|e| e.stream_id).collect();
    assert_eq!(read, [other], "the other shipment's change is read at once");

    let held = eventually("the lock holder to be named", async || {
        let held = report(&store).await;
        match held.holders.iter().find(|h| h.pid == pid) {
            Some(h) if h.role == HolderRole::Blocker && h.blocks >= 1 => Ok(held),
            _ => Err(held),
        }
    })
    .await;
    assert!(held.waiting_sessions >= 1, "{held:?}");
    let holder = held.blocking_holder().unwrap();
    assert_eq!(holder.pid, pid);
    assert_eq!(holder.state.as_deref(), Some("idle in transaction"));
    assert!(holder.query.as_deref().unwrap().contains("FOR UPDATE"));
    let text = explain(&held);
    assert!(
        text.contains(&format!("pg_terminate_backend({pid})")),
        "{text}"
    );

    sqlx::query("COMMIT").execute(&mut locker).await.unwrap();
    waiting.await.unwrap();
    let after = store.read_all(&batch.next, 100).await.unwrap();
    let read: Vec<Uuid> = after.events.iter().map(|e| e.stream_id).collect();
    assert_eq!(
        read,
        [locked],
        "the waiting change, once, after the lock is gone"
    );
    assert!(store
        .read_all(&after.next, 100)
        .await
        .unwrap()
        .events
        .is_empty());
}

/// One of freightdesk's appends that stays open is named as slow; its event is read exactly
/// once, after it commits, and nothing else waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_append_is_named_and_read_once_after_it_commits() {
    let url = fresh_postgres_url().await;
    let store = crate::helpers::open(&url).await.store;
    let mut slow = PgConnection::connect(&format!("{url}?application_name=freightdesk"))
        .await
        .unwrap();
    let pid = pid_of(&mut slow).await;
    let held_event = open_schedule(&mut slow).await;
    let fast = schedule_through_the_store(&store).await;
    let batch = store.read_all(&Checkpoint::START, 100).await.unwrap();
    let read: Vec<Uuid> = batch.events.iter().map(|e| e.stream_id).collect();
    assert_eq!(
        read,
        [fast],
        "a later append does not wait for the slow one"
    );

    let held = eventually("the slow append to be named", async || {
        let held = report(&store).await;
        match held.holders.iter().find(|h| h.pid == pid) {
            Some(h) if h.role == HolderRole::SlowAppend => Ok(held),
            _ => Err(held),
        }
    })
    .await;
    assert!(held.held_for_seconds() >= 1.0, "{held:?}");
    assert!(explain(&held).contains("other shipments are not held back"));

    sqlx::query("COMMIT").execute(&mut slow).await.unwrap();
    let after = store.read_all(&batch.next, 100).await.unwrap();
    let ids: Vec<Uuid> = after.events.iter().map(|e| e.id).collect();
    assert_eq!(ids, [held_event], "the late commit, once");
    assert!(store
        .read_all(&after.next, 100)
        .await
        .unwrap()
        .events
        .is_empty());
    let after_commit = report(&store).await;
    assert!(
        after_commit.holders.iter().all(|h| h.pid != pid),
        "{after_commit:?}"
    );
}

/// As seen from outside: while unrelated transactions stay open here and in another database,
/// the projections apply every later event and `/metrics` raises no flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn projections_apply_everything_while_unrelated_transactions_stay_open() {
    use crate::helpers::{assert_matches_fold, wait_caught_up};
    use crate::helpers::{spawn_app, Dialect};
    use freightdesk::projections::Definition;
    let app = spawn_app(Dialect::Postgres).await;
    let other_url = fresh_postgres_url().await;
    let mut here = forget_a_transaction(&app.database_url).await;
    let mut elsewhere = forget_a_transaction(&other_url).await;
    for _ in 0..3 {
        schedule_through_the_store(&app.store).await;
    }
    wait_caught_up(&app.store, &app.projections, &Definition::ALL).await;
    assert_matches_fold(&app.store, &app.projections).await;
    let metrics = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for version in ["1", "2"] {
        let flag = format!(
            "freightdesk_projection_held_back{{projection=\"shipment_board\",version=\"{version}\"}} 0"
        );
        assert!(metrics.contains(&flag), "{flag} missing in:\n{metrics}");
    }
    assert!(metrics.contains("freightdesk_slow_appends 0"), "{metrics}");
    for conn in [&mut here, &mut elsewhere] {
        sqlx::query("ROLLBACK").execute(&mut *conn).await.unwrap();
    }
}
