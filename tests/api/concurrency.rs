//! Optimistic concurrency under real contention.

use crate::both_backends;
use crate::helpers::{store, Dialect};
use freightdesk::store::*;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Barrier;
use uuid::Uuid;

fn meta(actor: String) -> EventMetadata {
    EventMetadata {
        actor,
        correlation_id: Uuid::new_v4(),
        causation_id: None,
        command: "Race".to_string(),
    }
}

fn payload(tag: &str) -> NewEvent {
    NewEvent {
        event_type: "ShipmentPickedUp".to_string(),
        schema_version: 1,
        data: json!({"picked_up_at": "2026-11-28T10:00:00Z", "tag": tag}),
    }
}

both_backends!(
    racers_on_one_version_exactly_one_wins,
    |backend: Dialect| async move {
        let t = store(backend).await;
        let id = Uuid::new_v4();
        t.store
            .append_with_expected_version(
                id,
                "Test",
                ExpectedVersion::NoStream,
                &[payload("first")],
                &meta("setup".into()),
            )
            .await
            .unwrap();
        let barrier = Arc::new(Barrier::new(32));
        let racers: Vec<_> = (0..32)
            .map(|i| {
                let store = t.store.clone();
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .append_with_expected_version(
                            id,
                            "Test",
                            ExpectedVersion::Exactly(1),
                            &[payload(&format!("racer {i}"))],
                            &meta(format!("racer-{i}")),
                        )
                        .await
                })
            })
            .collect();
        let mut wins = 0;
        let mut conflicts = 0;
        for racer in racers {
            match racer.await.unwrap() {
                Ok(a) => {
                    wins += 1;
                    assert_eq!(a.version, 2);
                }
                Err(AppendError::Conflict(c)) => {
                    conflicts += 1;
                    assert_eq!((c.expected_version, c.actual_version), (1, 2));
                    assert_eq!(c.events_since.len(), 1);
                    assert!(c.events_since[0].metadata.actor.starts_with("racer-"));
                }
                Err(other) => panic!("unexpected error {other:?}"),
            }
        }
        assert_eq!((wins, conflicts), (1, 31));
        let events = t.store.read_stream(id, 0).await.unwrap();
        assert_eq!(
            events.iter().map(|e| e.version).collect::<Vec<_>>(),
            vec![1, 2]
        );
        // Losers took no sequence numbers: the next append follows on directly.
        let next = t
            .store
            .append_with_expected_version(
                id,
                "Test",
                ExpectedVersion::Exactly(2),
                &[payload("after")],
                &meta("after".into()),
            )
            .await
            .unwrap();
        assert_eq!(next.last_seq, events[1].position.seq + 1);
    }
);

both_backends!(
    contended_appends_with_retries_lose_nothing,
    |backend: Dialect| async move {
        let t = store(backend).await;
        let streams: Arc<Vec<Uuid>> = Arc::new((0..16).map(|_| Uuid::new_v4()).collect());
        for id in streams.iter() {
            t.store
                .append_with_expected_version(
                    *id,
                    "Test",
                    ExpectedVersion::NoStream,
                    &[payload("created")],
                    &meta("setup".into()),
                )
                .await
                .unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        let workers: Vec<_> = (0..16)
            .map(|w| {
                let store = t.store.clone();
                let streams = streams.clone();
                tokio::spawn(async move {
                    let mut stored = Vec::new();
                    let mut conflicts = 0u32;
                    let mut n = 0usize;
                    while Instant::now() < deadline {
                        // Workers walk the streams at different offsets, so they collide often.
                        let id = streams[(w + n) % streams.len()];
                        let tag = format!("w{w}-n{n}");
                        loop {
                            let version = store.stream_version(id).await.unwrap().unwrap();
                            match store
                                .append_with_expected_version(
                                    id,
                                    "Test",
                                    ExpectedVersion::Exactly(version),
                                    &[payload(&tag)],
                                    &meta(format!("w{w}")),
                                )
                                .await
                            {
                                Ok(_) => break,
                                Err(AppendError::Conflict(_)) => conflicts += 1,
                                Err(other) => panic!("unexpected error {other:?}"),
                            }
                        }
                        stored.push(tag);
                        n += 1;
                    }
                    (stored, conflicts)
                })
            })
            .collect();
        let mut successes = HashSet::new();
        let mut conflicts = 0;
        for worker in workers {
            let (stored, c) = worker.await.unwrap();
            conflicts += c;
            for tag in stored {
                assert!(successes.insert(tag));
            }
        }
        let mut found = Vec::new();
        for id in streams.iter() {
            let events = t.store.read_stream(*id, 0).await.unwrap();
            let versions: Vec<i64> = events.iter().map(|e| e.version).collect();
            assert_eq!(
                versions,
                (1..=events.len() as i64).collect::<Vec<_>>(),
                "versions are contiguous"
            );
            found.extend(
                events
                    .iter()
                    .skip(1)
                    .map(|e| e.data["tag"].as_str().unwrap().to_string()),
            );
        }
        let found_set: HashSet<String> = found.iter().cloned().collect();
        assert_eq!(found.len(), found_set.len(), "no event stored twice");
        assert_eq!(found_set, successes, "every success stored, nothing else");
        println!(
            "{backend:?}: {} appends, {conflicts} conflicts retried",
            successes.len()
        );
        assert!(successes.len() > 16);
    }
);
