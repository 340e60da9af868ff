//! The event-store contract: every case runs against PostgreSQL and SQLite.

use crate::both_backends;
use crate::helpers::{read_all_until, schedule_command, store, Dialect};
use freightdesk::domain::*;
use freightdesk::store::shipments::{self, CommandContext, CommandError};
use freightdesk::store::*;
use serde_json::json;
use uuid::Uuid;

fn meta(actor: &str) -> EventMetadata {
    EventMetadata {
        actor: actor.to_string(),
        correlation_id: Uuid::new_v4(),
        causation_id: Some(Uuid::new_v4()),
        command: "TestCommand".to_string(),
    }
}

/// Appends `events` to the test stream `id` as "ann": the store's append with the stream kind
/// and metadata that do not matter to the case filled in.
async fn append(
    store: &EventStore,
    id: Uuid,
    expected: ExpectedVersion,
    events: &[NewEvent],
) -> Result<Appended, AppendError> {
    store
        .append_with_expected_version(id, "Test", expected, events, &meta("ann"))
        .await
}

fn event(n: i64) -> NewEvent {
    NewEvent {
        event_type: "ShipmentPickedUp".to_string(),
        schema_version: 1,
        data: json!({"picked_up_at": "2026-11-28T10:00:00Z", "n": n}),
    }
}

both_backends!(append_and_read_round_trip, |backend: Dialect| async move {
    let t = store(backend).await;
    let id = Uuid::new_v4();
    let first = append(
        &t.store,
        id,
        ExpectedVersion::NoStream,
        &[event(1), event(2)],
    )
    .await
    .unwrap();
    assert_eq!((first.first_version, first.version), (1, 2));
    let second = append(&t.store, id, ExpectedVersion::Exactly(2), &[event(3)])
        .await
        .unwrap();
    assert_eq!((second.first_version, second.version), (3, 3));

    let events = t.store.read_stream(id, 0).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(
        events
            .iter()
            .map(|e| e.data["n"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(events
        .iter()
        .all(|e| e.stream_id == id && e.event_type == "ShipmentPickedUp"));
    assert_eq!(events[2].position.seq, second.last_seq);
    assert_eq!(
        t.store.read_stream(id, 2).await.unwrap().len(),
        1,
        "reads from a version"
    );
    assert_eq!(t.store.stream_version(id).await.unwrap(), Some(3));
    assert_eq!(t.store.stream_version(Uuid::new_v4()).await.unwrap(), None);
    assert!(t
        .store
        .read_stream(Uuid::new_v4(), 0)
        .await
        .unwrap()
        .is_empty());
});

both_backends!(
    expected_version_mismatch_is_a_detailed_conflict,
    |backend: Dialect| async move {
        let t = store(backend).await;
        let id = Uuid::new_v4();
        append(&t.store, id, ExpectedVersion::NoStream, &[event(1)])
            .await
            .unwrap();
        t.store
            .append_with_expected_version(
                id,
                "Test",
                ExpectedVersion::Exactly(1),
                &[event(2), event(3)],
                &meta("bob"),
            )
            .await
            .unwrap();
        let err = t
            .store
            .append_with_expected_version(
                id,
                "Test",
                ExpectedVersion::Exactly(1),
                &[event(9)],
                &meta("cy"),
            )
            .await
            .unwrap_err();
        match err {
            AppendError::Conflict(c) => {
                assert_eq!(c.stream_id, id);
                assert_eq!((c.expected_version, c.actual_version), (1, 3));
                assert_eq!(
                    c.events_since.iter().map(|e| e.version).collect::<Vec<_>>(),
                    vec![2, 3]
                );
                assert!(c.events_since.iter().all(|e| e.metadata.actor == "bob"));
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        // The loser wrote nothing.
        assert_eq!(t.store.read_stream(id, 0).await.unwrap().len(), 3);

        let missing = Uuid::new_v4();
        let err = append(&t.store, missing, ExpectedVersion::Exactly(1), &[event(1)])
            .await
            .unwrap_err();
        assert!(matches!(err, AppendError::StreamNotFound { stream_id } if stream_id == missing));
    }
);

both_backends!(
    new_stream_collision_is_its_own_error,
    |backend: Dialect| async move {
        let t = store(backend).await;
        let id = Uuid::new_v4();
        append(&t.store, id, ExpectedVersion::NoStream, &[event(1)])
            .await
            .unwrap();
        let err = append(&t.store, id, ExpectedVersion::NoStream, &[event(2)])
            .await
            .unwrap_err();
        assert!(
            matches!(err, AppendError::StreamAlreadyExists { stream_id } if stream_id == id),
            "{err:?}"
        );
        assert_eq!(t.store.read_stream(id, 0).await.unwrap().len(), 1);
    }
);

both_backends!(metadata_round_trips, |backend: Dialect| async move {
    let t = store(backend).await;
    let id = Uuid::new_v4();
    let metadata = meta("dispatcher-7");
    t.store
        .append_with_expected_version(
            id,
            "Test",
            ExpectedVersion::NoStream,
            &[event(1)],
            &metadata,
        )
        .await
        .unwrap();
    let read = &t.store.read_stream(id, 0).await.unwrap()[0];
    assert_eq!(read.metadata, metadata);
    let all = read_all_until(&t.store, 1).await;
    assert_eq!(all[0].metadata, metadata);
});

both_backends!(
    old_schema_versions_are_upcast_on_read,
    |backend: Dialect| async move {
        let t = store(backend).await;
        let id = ShipmentId::generate();
        let context = CommandContext::new("ann");
        let schedule = schedule_command(id, "Rotterdam", "Milan");
        shipments::execute(&t.store, id, ExpectedVersion::NoStream, &schedule, &context)
            .await
            .unwrap();
        let pick_up = ShipmentCommand::PickUp {
            at: chrono::Utc::now(),
        };
        shipments::execute(
            &t.store,
            id,
            ExpectedVersion::Exactly(1),
            &pick_up,
            &context,
        )
        .await
        .unwrap();
        // A LocationRecorded written by an old build: schema v1 with a single `place`.
        let v1 = json!({"place": "Basel", "recorded_at": "2026-11-28T12:00:00Z"});
        let m = json!({"actor": "old-build", "correlation_id": Uuid::new_v4(), "causation_id": null, "command": "RecordLocation"});
        // Written beside the store, as an old build would have: a pool of the test's own.
        if matches!(backend, Dialect::Postgres) {
            let pool = &sqlx::PgPool::connect(&t.url).await.unwrap();
            sqlx::query("UPDATE streams SET version = 3 WHERE id = $1")
                .bind(id.as_uuid())
                .execute(pool)
                .await
                .unwrap();
            sqlx::query("INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata) VALUES ($1, $2, 3, 'LocationRecorded', 1, $3, $4)")
            .bind(Uuid::new_v4()).bind(id.as_uuid()).bind(&v1).bind(&m).execute(pool).await.unwrap();
        } else {
            let pool = &sqlx::SqlitePool::connect(&t.url).await.unwrap();
            sqlx::query("UPDATE streams SET version = 3 WHERE id = ?")
                .bind(id.to_string())
                .execute(pool)
                .await
                .unwrap();
            sqlx::query("INSERT INTO events (id, stream_id, version, event_type, schema_version, data, metadata, recorded_at) VALUES (?, ?, 3, 'LocationRecorded', 1, ?, ?, '2026-11-28T12:00:00.000000Z')")
            .bind(Uuid::new_v4().to_string()).bind(id.to_string()).bind(v1.to_string()).bind(m.to_string()).execute(pool).await.unwrap();
        }
        let stored = &t.store.read_stream(id.as_uuid(), 2).await.unwrap()[0];
        assert_eq!(stored.schema_version, 2);
        assert_eq!(stored.data["location"], "Basel");
        assert!(stored.data["lat"].is_null());
        let loaded = shipments::fetch_for_writing(&t.store, id).await.unwrap();
        let shipment = loaded.state.unwrap();
        assert_eq!(
            (loaded.version, shipment.last_location.as_deref()),
            (3, Some("Basel"))
        );
        let all = read_all_until(&t.store, 3).await;
        assert_eq!(
            all.last().unwrap().data["location"],
            "Basel",
            "read_all upcasts too"
        );
    }
);

both_backends!(
    read_all_returns_every_event_once_in_order,
    |backend: Dialect| async move {
        let t = store(backend).await;
        let streams: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        let mut appended = Vec::new();
        for round in 0..4i64 {
            for (i, id) in streams.iter().enumerate() {
                let expected = if round == 0 {
                    ExpectedVersion::NoStream
                } else {
                    ExpectedVersion::Exactly(round)
                };
                let a = append(&t.store, *id, expected, &[event(round * 10 + i as i64)])
                    .await
                    .unwrap();
                appended.push(a.last_seq);
            }
        }
        let seen: Vec<i64> = read_all_until(&t.store, appended.len())
            .await
            .iter()
            .map(|e| e.position.seq)
            .collect();
        assert_eq!(seen, appended, "every event once, in commit order");
        let (head, count) = t.store.head().await.unwrap();
        assert_eq!((head, count), (*appended.last().unwrap(), 12));
    }
);

both_backends!(
    conflict_losers_leave_no_sequence_gap,
    |backend: Dialect| async move {
        let t = store(backend).await;
        let id = Uuid::new_v4();
        let a = append(&t.store, id, ExpectedVersion::NoStream, &[event(1)])
            .await
            .unwrap();
        for _ in 0..3 {
            assert!(
                append(&t.store, id, ExpectedVersion::Exactly(7), &[event(2)])
                    .await
                    .is_err()
            );
            assert!(append(&t.store, id, ExpectedVersion::NoStream, &[event(2)])
                .await
                .is_err());
        }
        let b = append(&t.store, id, ExpectedVersion::Exactly(1), &[event(3)])
            .await
            .unwrap();
        assert_eq!(b.last_seq, a.last_seq + 1);
    }
);

both_backends!(
    commands_check_the_version_the_user_saw,
    |backend: Dialect| async move {
        let t = store(backend).await;
        let id = ShipmentId::generate();
        let ann = CommandContext::new("ann");
        let bob = CommandContext::new("bob");
        let schedule = schedule_command(id, "Hamburg", "Vienna");
        shipments::execute(&t.store, id, ExpectedVersion::NoStream, &schedule, &ann)
            .await
            .unwrap();
        let again =
            shipments::execute(&t.store, id, ExpectedVersion::NoStream, &schedule, &ann).await;
        assert!(matches!(
            again,
            Err(CommandError::Rejected(DomainError::AlreadyExists(_)))
        ));

        let cancel = ShipmentCommand::Cancel {
            reason: CancelReason::parse("no truck").unwrap(),
            at: chrono::Utc::now(),
        };
        shipments::execute(&t.store, id, ExpectedVersion::Exactly(1), &cancel, &ann)
            .await
            .unwrap();
        // Bob still sees version 1.
        let pick_up = ShipmentCommand::PickUp {
            at: chrono::Utc::now(),
        };
        match shipments::execute(&t.store, id, ExpectedVersion::Exactly(1), &pick_up, &bob).await {
            Err(CommandError::Conflict(c)) => {
                assert_eq!((c.expected_version, c.actual_version), (1, 2));
                assert_eq!(c.events_since[0].event_type, "ShipmentCancelled");
                assert_eq!(c.events_since[0].metadata.actor, "ann");
                assert_eq!(c.events_since[0].metadata.command, "CancelShipment");
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        // Re-applied on the latest version, the rules refuse it and name the status.
        match shipments::execute(&t.store, id, ExpectedVersion::Exactly(2), &pick_up, &bob).await {
            Err(CommandError::Rejected(e)) => {
                assert_eq!(e.to_string(), "cannot pick up a shipment that is Cancelled")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let unknown = shipments::execute(
            &t.store,
            ShipmentId::generate(),
            ExpectedVersion::Exactly(1),
            &pick_up,
            &bob,
        )
        .await;
        assert!(matches!(
            unknown,
            Err(CommandError::Rejected(DomainError::NotFound))
        ));
    }
);

both_backends!(
    retry_helper_re_decides_on_fresh_state,
    |backend: Dialect| async move {
        let t = store(backend).await;
        let id = ShipmentId::generate();
        let ctx = CommandContext::new("robot");
        let schedule = schedule_command(id, "Lyon", "Porto");
        shipments::execute_with_retry(&t.store, id, &schedule, &ctx, 3)
            .await
            .unwrap();
        let pick_up = ShipmentCommand::PickUp {
            at: chrono::Utc::now(),
        };
        shipments::execute_with_retry(&t.store, id, &pick_up, &ctx, 3)
            .await
            .unwrap();
        // Many location reports racing: with retries every one of them lands.
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = t.store.clone();
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    let cmd = ShipmentCommand::RecordLocation {
                        location: PlaceName::parse("location", &format!("Stop {i}")).unwrap(),
                        position: None,
                        notes: None,
                        at: chrono::Utc::now(),
                    };
                    shipments::execute_with_retry(&store, id, &cmd, &ctx, 50).await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let loaded = shipments::fetch_for_writing(&t.store, id).await.unwrap();
        assert_eq!(loaded.version, 10);
        assert_eq!(loaded.state.unwrap().location_count, 8);
        // A refusal is not retried.
        let schedule_again = shipments::execute_with_retry(&t.store, id, &schedule, &ctx, 3).await;
        assert!(matches!(
            schedule_again,
            Err(CommandError::Rejected(DomainError::AlreadyExists(_)))
        ));
    }
);

/// How one step of a random history is written: through the command path (which stores the
/// snapshot), by a second process (its own store, so nothing cached), or by a bare append that
/// stores no snapshot (so the stored one falls behind and the tail must be folded on top).
#[derive(Debug, Clone, Copy)]
enum Writer {
    CommandPath,
    OtherProcess,
    BareAppend,
}

fn random_step(kind: u8, at_minutes: i64) -> ShipmentCommand {
    let at = chrono::Utc::now() + chrono::Duration::minutes(at_minutes);
    match kind % 4 {
        0 => ShipmentCommand::PickUp { at },
        1 => ShipmentCommand::RecordLocation {
            location: PlaceName::parse("location", &format!("Stop {at_minutes}")).unwrap(),
            position: Coordinates::new(45.0, 9.0).ok(),
            notes: None,
            at,
        },
        2 => ShipmentCommand::Deliver { at },
        _ => ShipmentCommand::Cancel {
            reason: CancelReason::parse("customer withdrew the order").unwrap(),
            at,
        },
    }
}

both_backends!(
    snapshot_and_live_sources_agree_over_random_histories,
    |backend: Dialect| async move {
        use proptest::prelude::*;
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        use shipments::{fetch_from, Source};

        let (url, _dir) = crate::helpers::fresh_database_url(backend).await;
        let url = crate::helpers::parse_url(&url);
        let this = freightdesk::database::Database::open(&url)
            .await
            .unwrap()
            .store;
        let other = freightdesk::database::Database::open(&url)
            .await
            .unwrap()
            .store;
        let ctx = CommandContext::new("prop");
        let step = (0u8..4, 0i64..600, 0u8..3);
        let strategy = proptest::collection::vec(step, 0..10);
        let mut runner = TestRunner::deterministic();
        for _ in 0..24 {
            let history = strategy.new_tree(&mut runner).unwrap().current();
            let id = ShipmentId::generate();
            shipments::execute(
                &this,
                id,
                ExpectedVersion::NoStream,
                &schedule_command(id, "Rotterdam", "Milan"),
                &ctx,
            )
            .await
            .unwrap();
            for (kind, at, writer) in history {
                let writer = [
                    Writer::CommandPath,
                    Writer::OtherProcess,
                    Writer::BareAppend,
                ][usize::from(writer)];
                let command = random_step(kind, at);
                let current = fetch_from(&this, id, Source::Live).await.unwrap();
                let expected = ExpectedVersion::Exactly(current.version);
                match writer {
                    Writer::CommandPath | Writer::OtherProcess => {
                        let store = if matches!(writer, Writer::CommandPath) {
                            &this
                        } else {
                            &other
                        };
                        // Refusals (e.g. delivering a cancelled shipment) are part of a history too.
                        match shipments::execute(store, id, expected, &command, &ctx).await {
                            Ok(_) | Err(CommandError::Rejected(_)) => {}
                            Err(e) => panic!("{writer:?}: {e}"),
                        }
                    }
                    Writer::BareAppend => {
                        let Ok(events) = decide(current.state.as_ref(), &command) else {
                            continue;
                        };
                        let new: Vec<NewEvent> = events
                            .iter()
                            .map(|e| NewEvent {
                                event_type: e.event_type().to_string(),
                                schema_version: ShipmentEvent::current_schema_version(
                                    e.event_type(),
                                ),
                                data: e.to_json(),
                            })
                            .collect();
                        this.append_with_expected_version(
                            id.as_uuid(),
                            SHIPMENT_STREAM_KIND,
                            expected,
                            &new,
                            &meta("prop"),
                        )
                        .await
                        .unwrap();
                    }
                }
                let live = fetch_from(&this, id, Source::Live).await.unwrap();
                let snapshot = fetch_from(&this, id, Source::Snapshot).await.unwrap();
                assert_eq!(live, snapshot, "after {command:?} by {writer:?}");
                let elsewhere = fetch_from(&other, id, Source::Snapshot).await.unwrap();
                assert_eq!(live, elsewhere, "read by another process");
            }
        }
    }
);

/// Appends reach every listener once: this process's at once, another process's (a second store
/// on the same PostgreSQL database, with its own announcer) through the coalesced NOTIFY.
#[tokio::test]
async fn appends_are_announced_once_here_and_to_other_processes() {
    use std::time::Duration;
    let url = crate::helpers::fresh_postgres_url().await;
    let here = crate::helpers::open(&url).await.store;
    let there = crate::helpers::open(&url).await.store;
    let mut heard_here = here.subscribe();
    let mut heard_there = there.subscribe();
    let id = Uuid::new_v4();
    let mut last = None;
    for (n, expected) in [
        (1, ExpectedVersion::NoStream),
        (2, ExpectedVersion::Exactly(1)),
    ] {
        last = Some(
            append(&here, id, expected, &[event(n)])
                .await
                .expect("append"),
        );
    }
    let last = last.unwrap();
    // Here: each append once, in order.
    assert_eq!(heard_here.recv().await.unwrap().version, 1);
    assert_eq!(heard_here.recv().await.unwrap(), last);
    // There: the newest of the stream arrives (earlier ones may be coalesced into it).
    let mut newest = None;
    while newest != Some(last) {
        let a = tokio::time::timeout(Duration::from_secs(5), heard_there.recv())
            .await
            .expect("announced to the other process within 5 s")
            .unwrap();
        assert_eq!(a.stream_id, id);
        newest = Some(a);
    }
    // And nothing twice here: our own NOTIFY came back and was skipped.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(heard_here.try_recv().is_err(), "an append was heard twice");
}

both_backends!(
    appends_abandoned_part_way_leave_the_store_writable,
    |backend: Dialect| async move {
        use std::time::Duration;
        let t = store(backend).await;
        // Callers that give up at every moment of an append (a client hanging up): each append
        // happens whole or not at all, and nothing is left holding the database.
        let mut streams = Vec::new();
        for i in 0..200u64 {
            let id = Uuid::new_v4();
            streams.push(id);
            let events = [event(1), event(2)];
            let attempt = append(&t.store, id, ExpectedVersion::NoStream, &events);
            let _ = tokio::time::timeout(Duration::from_micros(20 * (i % 50)), attempt).await;
        }
        let id = Uuid::new_v4();
        let after = tokio::time::timeout(
            Duration::from_secs(5),
            append(&t.store, id, ExpectedVersion::NoStream, &[event(1)]),
        )
        .await
        .expect("the store is writable at once")
        .expect("append");
        assert_eq!(after.version, 1);
        tokio::time::sleep(Duration::from_millis(200)).await;
        for id in streams {
            let events = t.store.read_stream(id, 0).await.unwrap();
            assert!(
                events.is_empty() || events.len() == 2,
                "half an append: {events:?}"
            );
        }
    }
);

both_backends!(
    lag_counts_from_when_an_event_came_in_not_from_its_recorded_time,
    |backend: Dialect| async move {
        let t = store(backend).await;
        // A backfill: events recorded a month ago, imported now.
        let month_ago = chrono::Utc::now() - chrono::Duration::days(30);
        let imported = ImportedStream {
            stream_id: Uuid::new_v4(),
            kind: "Test".into(),
            metadata: meta("seed"),
            events: vec![ImportedEvent {
                event: event(1),
                recorded_at: month_ago,
            }],
            snapshot: None,
        };
        let before = chrono::Utc::now();
        t.store
            .import(std::slice::from_ref(&imported))
            .await
            .unwrap();
        let (count, oldest) = t.store.backlog(&Checkpoint::START).await.unwrap();
        assert_eq!(count, 1);
        let oldest = oldest.expect("an unread event has a time");
        assert!(
            oldest >= before - chrono::Duration::seconds(5),
            "lag counted from {oldest}, not from the import at {before}"
        );
        // The event itself keeps the time it was recorded.
        let read = t.store.read_stream(imported.stream_id, 0).await.unwrap();
        assert_eq!(read[0].recorded_at.timestamp(), month_ago.timestamp());
        // An ordinary append is appended when recorded.
        let appended = append(
            &t.store,
            Uuid::new_v4(),
            ExpectedVersion::NoStream,
            &[event(2)],
        )
        .await
        .unwrap();
        let (count, _) = t.store.backlog(&Checkpoint::START).await.unwrap();
        assert_eq!(count, 2);
        assert!(appended.last_seq > 0);
    }
);
