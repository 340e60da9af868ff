//! A forgotten open transaction holds projections back: the diagnosis names it, and once it
//! commits every event is read exactly once. The hold lasts well under a second, because on
//! PostgreSQL it holds back every reader in the cluster, including other tests'.

use crate::helpers::{fresh_postgres_url, read_all_until, schedule_command};
use chrono::Utc;
use freightdesk::domain::{ShipmentEvent, ShipmentId, ShipmentScheduled, SHIPMENT_STREAM_KIND};
use freightdesk::stall::{explain, HoldReport};
use freightdesk::store::shipments::{self, CommandContext};
use freightdesk::store::{EventMetadata, EventStore, ExpectedVersion, Position};
use sqlx::{Connection, PgConnection};
use std::collections::HashSet;
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

async fn report(store: &EventStore) -> HoldReport {
    store
        .diagnose_hold()
        .await
        .unwrap()
        .expect("PostgreSQL diagnoses holds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_transaction_is_named_and_no_event_is_skipped() {
    let url = fresh_postgres_url().await;
    let store = crate::helpers::open(&url).await.store;
    let mut forgotten = PgConnection::connect(&url).await.unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut forgotten)
        .await
        .unwrap();

    let held_event = open_schedule(&mut forgotten).await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(schedule_through_the_store(&store).await);
    }

    let batch = store.read_all(Position::START, 100).await.unwrap();
    assert!(
        batch.events.is_empty(),
        "nothing is read past the open transaction: {:?}",
        batch.events
    );
    let held = report(&store).await;
    assert!(held.is_held_back());
    assert!(held.unreadable_events >= 3, "{held:?}");
    assert!(held.oldest_unreadable_at.is_some());
    let holder = held
        .holders
        .iter()
        .find(|h| h.pid == pid)
        .unwrap_or_else(|| panic!("pid {pid} not named in {held:?}"));
    assert_eq!(holder.state.as_deref(), Some("idle in transaction"));
    assert!(!holder.own_append);
    assert!(holder.transaction_age_seconds > 0.0, "{holder:?}");
    assert!(holder.query.is_some());
    assert!(held.held_for_seconds(Utc::now()) >= holder.transaction_age_seconds);
    assert!(explain(&held).contains("pg_terminate_backend"));

    sqlx::query("COMMIT").execute(&mut forgotten).await.unwrap();

    let events = read_all_until(&store, 4).await;
    assert_eq!(
        events[0].id, held_event,
        "the late commit comes first: it began first"
    );
    assert!(
        events.windows(2).all(|w| w[0].position < w[1].position),
        "positions strictly increase"
    );
    let ids: HashSet<Uuid> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 4, "no duplicates");
    let appended: HashSet<Uuid> = events[1..].iter().map(|e| e.stream_id).collect();
    assert_eq!(appended, streams.into_iter().collect());

    let after = report(&store).await;
    assert!(
        after.holders.iter().all(|h| h.pid != pid),
        "pid {pid} still named after its commit: {after:?}"
    );
}

/// The same hold as seen from outside: `/metrics` raises the flag for every maintained version
/// while the projections' checkpoints stay below the held event; after the commit the flag
/// drops and the projections apply everything exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_report_the_hold_and_projections_resume_after_it() {
    use crate::helpers::{assert_matches_fold, wait_caught_up};
    use crate::helpers::{spawn_app, Dialect};
    use freightdesk::projections::Definition;
    let app = spawn_app(Dialect::Postgres).await;
    let url = app.database_url.clone();
    let mut forgotten = PgConnection::connect(&url).await.unwrap();
    open_schedule(&mut forgotten).await;
    for _ in 0..2 {
        schedule_through_the_store(&app.store).await;
    }
    let metrics = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    sqlx::query("COMMIT").execute(&mut forgotten).await.unwrap();
    for version in ["1", "2"] {
        let flag =
            format!("freightdesk_projection_held_back{{projection=\"shipment_board\",version=\"{version}\"}} 1");
        assert!(metrics.contains(&flag), "{flag} missing in:\n{metrics}");
    }
    assert!(metrics.contains("freightdesk_projections_held_back_seconds "));
    assert!(!metrics.contains("freightdesk_projections_held_back_seconds 0.000"));

    wait_caught_up(&app.store, &app.projections, &Definition::ALL).await;
    assert_matches_fold(&app.store, &app.projections).await;
}
