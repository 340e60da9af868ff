//! Waiting for what the server does on its own time (the daemon, the webhook runner, a node
//! taking over): ask again until it is so, and fail loudly with what was seen last.

use freightdesk::db::PortableDb;
use freightdesk::projections::lifecycle::VersionState;
use freightdesk::projections::{versions, Definition};
use freightdesk::store::{Checkpoint, EventStore, RecordedEvent};
use std::fmt::Debug;
use std::ops::AsyncFnMut;
use std::time::{Duration, Instant};

/// How long anything may take on a loaded test machine before the test fails.
const PATIENCE: Duration = Duration::from_secs(60);
/// How long to wait between two looks.
const LOOK_AGAIN_AFTER: Duration = Duration::from_millis(20);

/// Asks `probe` until it answers `Ok`, and returns that. `Err` is "not yet", carrying what was
/// seen: after `PATIENCE` the test fails naming `what` and the last thing seen.
pub async fn eventually<T, Seen: Debug>(
    what: &str,
    mut probe: impl AsyncFnMut() -> Result<T, Seen>,
) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match probe().await {
            Ok(done) => return done,
            Err(seen) => assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; last seen: {seen:?}"
            ),
        }
        tokio::time::sleep(LOOK_AGAIN_AFTER).await;
    }
}

/// Waits until every given version has applied every event, has no rebuild running and has
/// not failed.
pub async fn wait_caught_up(store: &EventStore, db: &PortableDb, defs: &[Definition]) {
    eventually("the projections to catch up", async || {
        let mut behind = Vec::new();
        for def in defs {
            // A node that has just started may not have registered its versions yet.
            let row = match versions::load(db, *def).await {
                Err(sqlx::Error::RowNotFound) => {
                    behind.push(format!("{} not registered", def.key()));
                    continue;
                }
                other => other.unwrap(),
            };
            assert!(
                row.failure.is_none(),
                "{} failed: {:?}",
                def.key(),
                row.failure
            );
            let (lag, _) = store.backlog(&row.checkpoint).await.unwrap();
            // A building version that has read everything becomes standby on its next step.
            if lag != 0 || row.rebuild.is_some() || row.state == VersionState::Building {
                behind.push(format!("{} {} behind by {lag}", def.key(), row.state));
            }
        }
        if behind.is_empty() {
            Ok(())
        } else {
            Err(behind)
        }
    })
    .await
}

/// Reads the whole log in small pages until `count` events have arrived (appends still in
/// flight when it starts arrive when they commit), and checks nothing comes after them.
pub async fn read_all_until(store: &EventStore, count: usize) -> Vec<RecordedEvent> {
    let mut checkpoint = Checkpoint::START;
    let mut seen = Vec::new();
    while seen.len() < count {
        let batch = eventually("the next events to become readable", async || {
            let batch = store.read_all(&checkpoint, 5).await.unwrap();
            if batch.events.is_empty() {
                Err(format!("{} of {count} events", seen.len()))
            } else {
                Ok(batch)
            }
        })
        .await;
        assert!(
            batch.next.seq >= checkpoint.seq,
            "the checkpoint moves forward"
        );
        checkpoint = batch.next;
        seen.extend(batch.events);
    }
    assert!(
        store
            .read_all(&checkpoint, 5)
            .await
            .unwrap()
            .events
            .is_empty(),
        "nothing after the end"
    );
    seen
}
