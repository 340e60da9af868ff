//! The guided rollout: every checklist item on its own refuses a cutover, two admins at once
//! make one cutover, a cutover under appends loses nothing, a failing live version rolls back
//! by itself within two seconds while reads go on, and a poison event can be skipped.

use crate::both_backends;
use crate::helpers::{
    app_with_history, assert_matches_fold, eventually, first_board_page, random_history,
    wait_caught_up,
};
use crate::helpers::{schedule_command, Dialect};
use freightdesk::db::PortableDb;
use freightdesk::domain::{PlaceName, ShipmentCommand, ShipmentId};
use freightdesk::projections::lifecycle::AuditAction;
use freightdesk::projections::queries::{board, SearchCounts};
use freightdesk::projections::settings::Settings;
use freightdesk::projections::{
    alerts, audit, operator, rollout, settings, skips, versions, Daemon, Definition,
};
use freightdesk::store::shipments::{execute_with_retry, CommandContext};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const V1: Definition = Definition::ShipmentBoardV1;
const V2: Definition = Definition::ShipmentBoardV2;

async fn set(db: &PortableDb, s: Settings) {
    let mut tx = db.begin().await.unwrap();
    settings::save(&mut tx, "shipment_board", &s, "test")
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn refusal(app: &crate::helpers::TestApp, def: Definition) -> String {
    operator::cut_over(&app.projections, &app.store, def, "ada")
        .await
        .expect_err("refused")
        .to_string()
}

both_backends!(
    each_checklist_item_refuses_a_cutover_on_its_own,
    |backend: Dialect| async move {
        let mut app = app_with_history(backend).await;
        let db = app.projections.clone();

        // Compared: never compared.
        assert!(refusal(&app, V2).await.contains("Compared with live"));
        rollout::compare_with_live(&db, "shipment_board")
            .await
            .unwrap();

        // Compared: differences nobody accepted.
        let table = versions::load(&db, V2).await.unwrap().physical_table;
        db.execute(sqlx::query(&format!(
            "UPDATE {table} SET origin = 'Elsewhere' WHERE shipment_id = (SELECT MIN(shipment_id) FROM {table})"
        )))
        .await
        .unwrap();
        rollout::compare_with_live(&db, "shipment_board")
            .await
            .unwrap();
        let text = refusal(&app, V2).await;
        assert!(
            text.contains("Compared with live") && text.contains("accept"),
            "{text}"
        );
        operator::acknowledge_differences(&db, V2, "ada")
            .await
            .unwrap();

        // Healthy: a skipped event nobody acknowledged.
        let mut tx = db.begin().await.unwrap();
        skips::record(
            &mut tx,
            V2,
            skips::NewSkip {
                seq: 1,
                stream_id: "x",
                event_type: "ShipmentScheduled",
                error: "test",
                reason: "test",
                actor: "ada",
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let text = refusal(&app, V2).await;
        assert!(
            text.contains("Healthy") && text.contains("skipped"),
            "{text}"
        );
        operator::acknowledge_skips(&db, V2, "ada").await.unwrap();

        // Running: the node that owns it stopped sending heartbeats.
        versions::set_owner(&db, V2, Some("a-node-long-gone"))
            .await
            .unwrap();
        let text = refusal(&app, V2).await;
        assert!(text.contains("Running on a node"), "{text}");
        versions::set_owner(&db, V2, None).await.unwrap();
        assert!(refusal(&app, V2).await.contains("no node runs it"));

        // Caught up: behind the log (the daemon stopped).
        app.workers.take().unwrap().shutdown().await;
        random_history(&app.store, 2, 0, 77).await;
        assert!(refusal(&app, V2).await.contains("behind"));
        // ... unless the settings allow that much lag, as long as a node runs it.
        let daemon = Daemon::new(
            app.store.clone(),
            db.clone(),
            "again".into(),
            Definition::ALL.to_vec(),
        )
        .start()
        .await
        .unwrap();
        wait_caught_up(&app.store, &db, &Definition::ALL).await;
        set(
            &db,
            Settings {
                max_lag_events: 100,
                ..Settings::default()
            },
        )
        .await;
        operator::cut_over(&db, &app.store, V2, "ada")
            .await
            .unwrap();
        daemon.shutdown().await;
    }
);

both_backends!(
    two_admins_cutting_over_at_once_make_one_cutover,
    |backend: Dialect| async move {
        let app = app_with_history(backend).await;
        let db = &app.projections;
        rollout::compare_with_live(db, "shipment_board")
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            operator::cut_over(db, &app.store, V2, "ada"),
            operator::cut_over(db, &app.store, V2, "bea"),
        );
        let outcomes = [a.is_ok(), b.is_ok()];
        assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");
        let refused = if a.is_ok() { b } else { a }.unwrap_err().to_string();
        assert!(
            refused.contains("already live") || refused.contains("changed meanwhile"),
            "{refused}"
        );
        let cutovers = audit::recent(db, 20)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == AuditAction::CutOver)
            .count();
        assert_eq!(cutovers, 1);
    }
);

both_backends!(
    cutting_over_and_back_under_appends_loses_no_event,
    |backend: Dialect| async move {
        let app = app_with_history(backend).await;
        let db = app.projections.clone();
        rollout::compare_with_live(&db, "shipment_board")
            .await
            .unwrap();
        set(
            &db,
            Settings {
                max_lag_events: 1_000,
                ..Settings::default()
            },
        )
        .await;
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for w in 0..4u64 {
            let (store, stop) = (app.store.clone(), stop.clone());
            writers.push(tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    random_history(&store, 1, 2, 1000 + w * 100 + n).await;
                    n += 1;
                }
            }));
        }
        for _ in 0..3 {
            operator::cut_over(&db, &app.store, V2, "ada")
                .await
                .unwrap();
            // Back to v1: it must be fully current, so try until a moment between appends.
            eventually("a moment to cut back over to v1", async || {
                operator::cut_over(&db, &app.store, V1, "ada").await
            })
            .await;
        }
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.await.unwrap();
        }
        wait_caught_up(&app.store, &db, &Definition::ALL).await;
        assert_matches_fold(&app.store, &db).await;
    }
);

/// Makes the v2 table refuse a row whose last location is `POISON`: a version whose code
/// cannot apply one crafted event.
async fn poison_v2(db: &PortableDb, backend: Dialect) {
    let table = versions::load(db, V2).await.unwrap().physical_table;
    let statements = match backend {
        Dialect::Postgres => vec![format!(
            "ALTER TABLE {table} ADD CONSTRAINT no_poison CHECK (last_location IS DISTINCT FROM 'POISON')"
        )],
        Dialect::Sqlite => ["INSERT", "UPDATE"]
            .iter()
            .map(|op| format!("CREATE TRIGGER no_poison_{op} BEFORE {op} ON {table} WHEN NEW.last_location = 'POISON' BEGIN SELECT RAISE(ABORT, 'poison'); END"))
            .collect(),
    };
    for statement in statements {
        db.execute(sqlx::query(&statement)).await.unwrap();
    }
}

both_backends!(
    a_failing_live_version_rolls_back_within_two_seconds_and_the_poison_event_can_be_skipped,
    |backend: Dialect| async move {
        let app = app_with_history(backend).await;
        let db = app.projections.clone();
        rollout::compare_with_live(&db, "shipment_board")
            .await
            .unwrap();
        operator::cut_over(&db, &app.store, V2, "ada")
            .await
            .unwrap();
        poison_v2(&db, backend).await;

        // Reads go on the whole time and never fail.
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(AtomicUsize::new(0));
        let reader = {
            let (db, stop, failures) = (db.clone(), stop.clone(), failures.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if board(&db, &SearchCounts::default(), &first_board_page())
                        .await
                        .is_err()
                    {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
        };
        let ctx = CommandContext::new("dan");
        let id = ShipmentId::generate();
        execute_with_retry(
            &app.store,
            id,
            &schedule_command(id, "Lyon", "Basel"),
            &ctx,
            3,
        )
        .await
        .unwrap();
        let pick_up = ShipmentCommand::PickUp {
            at: chrono::Utc::now(),
        };
        execute_with_retry(&app.store, id, &pick_up, &ctx, 3)
            .await
            .unwrap();
        // The poison event arrives on its own, as one would in production: the clock below
        // measures the failure and the rollback, not a batch being narrowed down first.
        wait_caught_up(&app.store, &db, &Definition::ALL).await;
        let poison = ShipmentCommand::RecordLocation {
            location: PlaceName::parse("location", "POISON").unwrap(),
            position: None,
            notes: None,
            at: chrono::Utc::now(),
        };
        let appended = execute_with_retry(&app.store, id, &poison, &ctx, 3)
            .await
            .unwrap();
        let started = Instant::now();
        loop {
            let served = board(&db, &SearchCounts::default(), &first_board_page())
                .await
                .unwrap()
                .served_by;
            if served == V1 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "reads still on v2 after 2 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.store(true, Ordering::Relaxed);
        reader.await.unwrap();
        assert_eq!(
            failures.load(Ordering::Relaxed),
            0,
            "a read failed meanwhile"
        );
        let entry = audit::recent(&db, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.action == AuditAction::RolledBack)
            .expect("the rollback is audited");
        assert_eq!(entry.actor, "system");
        assert!(entry.detail.contains("automatic"), "{}", entry.detail);
        assert_eq!(alerts::open(&db, "shipment_board").await.unwrap().len(), 1);

        // The poison event: v2 names it; skipping needs a reason, is recorded, and v2 goes on.
        let failed = versions::load(&db, V2).await.unwrap().failure.unwrap();
        assert_eq!(failed.event_seq, Some(appended.last_seq));
        assert!(operator::skip_event(&db, V2, "ada", "  ").await.is_err());
        operator::skip_event(&db, V2, "ada", "location feed sent a test value")
            .await
            .unwrap();
        let skipped = skips::list(&db, V2).await.unwrap();
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].seq, appended.last_seq);
        assert_eq!(skipped[0].skipped_by, "ada");
        wait_caught_up(&app.store, &db, &Definition::ALL).await;
        let v2 = versions::load(&db, V2).await.unwrap();
        assert!(v2.failure.is_none());
        let (behind, _) = app.store.backlog(&v2.checkpoint).await.unwrap();
        assert_eq!(behind, 0, "v2 went on past the skipped event");
        assert!(audit::recent(&db, 10)
            .await
            .unwrap()
            .iter()
            .any(|e| e.action == AuditAction::EventSkipped && e.actor == "ada"));
    }
);

both_backends!(
    differences_of_a_version_still_building_cannot_be_accepted,
    |backend: Dialect| async move {
        let mut app = app_with_history(backend).await;
        let db = app.projections.clone();
        // Caught up, v2 differs from v1 in one row: a comparison nobody accepted yet.
        let table = versions::load(&db, V2).await.unwrap().physical_table;
        db.execute(sqlx::query(&format!(
            "UPDATE {table} SET origin = 'Elsewhere' WHERE shipment_id = (SELECT MIN(shipment_id) FROM {table})"
        )))
        .await
        .unwrap();
        let compared = rollout::compare_with_live(&db, "shipment_board")
            .await
            .unwrap();
        assert_eq!(compared.len(), 1);
        assert!(!compared[0].identical());

        // Now v2 is rebuilt, and stays half built: no node runs the daemon any more.
        app.workers.take().unwrap().shutdown().await;
        let (_, total) = app.store.head().await.unwrap();
        operator::request_rebuild(&db, V2, "ada", total)
            .await
            .unwrap();

        // The server refuses to accept its differences, over HTTP as the page would ask...
        let answer = app
            .post_form(
                "projections/accept-differences",
                &[("key", "shipment_board@2")],
            )
            .await;
        assert_eq!(answer.status(), 422);
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["kind"], "rejected", "{body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("being rebuilt"), "{message}");
        // ... records no acceptance, and compares nothing until it has caught up.
        let audit = audit::recent(&db, 50).await.unwrap();
        assert!(!audit.iter().any(|e| e.action == AuditAction::Acknowledged));
        assert!(rollout::compare_with_live(&db, "shipment_board")
            .await
            .unwrap()
            .is_empty());
        let status = freightdesk::projections::status::rollout(&db, &app.store, "shipment_board")
            .await
            .unwrap()
            .unwrap();
        assert!(status.comparison.is_none(), "{:?}", status.comparison);
        assert!(status
            .green
            .unwrap()
            .state_phrase()
            .starts_with("rebuilding "));
    }
);
