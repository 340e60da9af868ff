//! Projection versions against an independent fold of the events, on both backends: random
//! command sequences, failure and retry, rebuild, capabilities.

use crate::both_backends;
use crate::helpers::{
    app_with_history, assert_matches_fold, eventually, first_board_page, random_history,
    schedule_command, spawn_app, wait_caught_up, Dialect,
};
use freightdesk::domain::*;
use freightdesk::projections::lifecycle::{AuditAction, VersionState};
use freightdesk::projections::queries::{self, BoardQuery, SearchCounts};
use freightdesk::projections::{audit, diff, operator, rollout, versions};
use freightdesk::projections::{Daemon, Definition};
use freightdesk::store::shipments::{execute_with_retry, CommandContext};

both_backends!(
    every_version_equals_an_independent_fold,
    |backend: Dialect| async move {
        let app = app_with_history(backend).await;
        assert_matches_fold(&app.store, &app.projections).await;
        // v1 started live, v2 built beside it and is now on standby.
        assert_eq!(
            versions::load(&app.projections, Definition::ShipmentBoardV1)
                .await
                .unwrap()
                .state,
            VersionState::Live
        );
        assert_eq!(
            versions::load(&app.projections, Definition::ShipmentBoardV2)
                .await
                .unwrap()
                .state,
            VersionState::Standby
        );
    }
);

both_backends!(
    board_queries_filter_search_and_page,
    |backend: Dialect| async move {
        let app = app_with_history(backend).await;
        let all = queries::board(
            &app.projections,
            &SearchCounts::default(),
            &first_board_page(),
        )
        .await
        .unwrap();
        assert_eq!(all.total, 40);
        assert_eq!(all.served_by, Definition::ShipmentBoardV1);
        let in_transit = queries::board(
            &app.projections,
            &SearchCounts::default(),
            &BoardQuery {
                status: Some(ShipmentStatus::InTransit),
                page: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(in_transit
            .rows
            .iter()
            .all(|r| r.shipment.status == ShipmentStatus::InTransit));
        let oslo = queries::board(
            &app.projections,
            &SearchCounts::default(),
            &BoardQuery {
                search: Some("oSLo".into()),
                page: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(oslo.total > 0);
        assert!(oslo
            .rows
            .iter()
            .all(|r| r.shipment.origin == "Oslo" || r.shipment.destination == "Oslo"));
        let id = all.rows[3].shipment.id.to_string();
        let by_id = queries::board(
            &app.projections,
            &SearchCounts::default(),
            &BoardQuery {
                search: Some(id[..8].to_string()),
                page: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(by_id.rows.iter().any(|r| r.shipment.id.to_string() == id));
        let wildcard = queries::board(
            &app.projections,
            &SearchCounts::default(),
            &BoardQuery {
                search: Some("%".into()),
                page: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(wildcard.total, 0, "a % in the search is a literal");
    }
);

both_backends!(
    a_failing_version_stops_alone_and_resumes_on_retry,
    |backend: Dialect| async move {
        let mut app = app_with_history(backend).await;
        let table = versions::load(&app.projections, Definition::ShipmentBoardV2)
            .await
            .unwrap()
            .physical_table;
        // The read model refuses one value: a stand-in for a projection bug.
        let guard = match backend {
            Dialect::Postgres => vec![format!("ALTER TABLE {table} ADD CONSTRAINT no_atlantis CHECK (last_location IS DISTINCT FROM 'Atlantis')")],
            // The shipment may be created and moved in one batch: guard inserts and updates.
            Dialect::Sqlite => ["INSERT", "UPDATE"]
                .iter()
                .map(|op| format!("CREATE TRIGGER no_atlantis_{op} BEFORE {op} ON {table} WHEN NEW.last_location = 'Atlantis' BEGIN SELECT RAISE(ABORT, 'no Atlantis'); END"))
                .collect(),
        };
        for statement in guard {
            app.projections
                .execute(sqlx::query(&statement))
                .await
                .unwrap();
        }
        // The daemon is stopped while the three events are appended, so they reach it in one
        // batch: the failure has to be narrowed down to the bad event.
        app.workers.take().unwrap().shutdown().await;
        let ctx = CommandContext::new("ann");
        let id = ShipmentId::generate();
        let schedule = schedule_command(id, "Nice", "Bern");
        execute_with_retry(&app.store, id, &schedule, &ctx, 3)
            .await
            .unwrap();
        let picked_up = execute_with_retry(
            &app.store,
            id,
            &ShipmentCommand::PickUp {
                at: chrono::Utc::now(),
            },
            &ctx,
            3,
        )
        .await
        .unwrap();
        let atlantis = ShipmentCommand::RecordLocation {
            location: PlaceName::parse("location", "Atlantis").unwrap(),
            position: None,
            notes: None,
            at: chrono::Utc::now(),
        };
        let appended = execute_with_retry(&app.store, id, &atlantis, &ctx, 3)
            .await
            .unwrap();
        let daemon = Daemon::new(
            app.store.clone(),
            app.projections.clone(),
            "restarted".into(),
            Definition::ALL.to_vec(),
        )
        .start()
        .await
        .unwrap();

        let failure = eventually("v2 to fail", async || {
            let row = versions::load(&app.projections, Definition::ShipmentBoardV2)
                .await
                .unwrap();
            row.failure.ok_or(row.state)
        })
        .await;
        assert_eq!(failure.event_seq, Some(appended.last_seq));
        assert_eq!(failure.event_type.as_deref(), Some("LocationRecorded"));
        assert_eq!(failure.stream_id, Some(id.to_string()));
        let stopped_at = versions::load(&app.projections, Definition::ShipmentBoardV2)
            .await
            .unwrap();
        assert_eq!(
            stopped_at.checkpoint.seq, picked_up.last_seq,
            "everything before the bad event applied"
        );
        // The others go on.
        execute_with_retry(
            &app.store,
            id,
            &ShipmentCommand::Deliver {
                at: chrono::Utc::now(),
            },
            &ctx,
            3,
        )
        .await
        .unwrap();
        wait_caught_up(
            &app.store,
            &app.projections,
            &[Definition::ShipmentBoardV1, Definition::DailyShipmentsV1],
        )
        .await;
        let v2 = versions::load(&app.projections, Definition::ShipmentBoardV2)
            .await
            .unwrap();
        assert!(
            v2.checkpoint.seq < appended.last_seq,
            "v2 stopped before the bad event"
        );

        let unguard = match backend {
            Dialect::Postgres => vec![format!("ALTER TABLE {table} DROP CONSTRAINT no_atlantis")],
            Dialect::Sqlite => vec![
                "DROP TRIGGER no_atlantis_INSERT".to_string(),
                "DROP TRIGGER no_atlantis_UPDATE".to_string(),
            ],
        };
        for statement in unguard {
            app.projections
                .execute(sqlx::query(&statement))
                .await
                .unwrap();
        }
        operator::retry(&app.projections, Definition::ShipmentBoardV2, "admin")
            .await
            .unwrap();
        wait_caught_up(&app.store, &app.projections, &Definition::ALL).await;
        assert_matches_fold(&app.store, &app.projections).await;
        let audit = audit::recent(&app.projections, 10).await.unwrap();
        assert!(audit
            .iter()
            .any(|a| a.action == AuditAction::Failed && a.projection == "shipment_board@2"));
        assert!(audit
            .iter()
            .any(|a| a.action == AuditAction::Retried && a.actor == "admin"));
        daemon.shutdown().await;
    }
);

both_backends!(
    rebuilding_the_live_version_swaps_in_a_complete_table,
    |backend: Dialect| async move {
        let app = app_with_history(backend).await;
        let before = versions::load(&app.projections, Definition::ShipmentBoardV1)
            .await
            .unwrap();
        let (_, total) = app.store.head().await.unwrap();
        let table = operator::request_rebuild(
            &app.projections,
            Definition::ShipmentBoardV1,
            "admin",
            total,
        )
        .await
        .unwrap();
        assert!(
            operator::request_rebuild(
                &app.projections,
                Definition::ShipmentBoardV1,
                "admin",
                total
            )
            .await
            .is_err(),
            "one rebuild at a time"
        );
        // The daily counts are plain counters: an event applied twice would show in the fold.
        operator::request_rebuild(
            &app.projections,
            Definition::DailyShipmentsV1,
            "admin",
            total,
        )
        .await
        .unwrap();
        // Reads keep coming from the complete old table while the new one fills.
        let page = queries::board(
            &app.projections,
            &SearchCounts::default(),
            &first_board_page(),
        )
        .await
        .unwrap();
        assert_eq!(page.total, 40);
        wait_caught_up(&app.store, &app.projections, &Definition::ALL).await;
        let after = versions::load(&app.projections, Definition::ShipmentBoardV1)
            .await
            .unwrap();
        assert_eq!(after.physical_table, table);
        assert_ne!(after.physical_table, before.physical_table);
        assert_eq!(after.events_applied, total, "each event applied once");
        let daily = versions::load(&app.projections, Definition::DailyShipmentsV1)
            .await
            .unwrap();
        assert!(daily.rebuild.is_none());
        assert_eq!(daily.events_applied, total);
        assert_matches_fold(&app.store, &app.projections).await;
    }
);

both_backends!(
    a_node_without_a_capability_never_touches_it,
    |backend: Dialect| async move {
        let mut app = spawn_app(backend).await;
        random_history(&app.store, 10, 40, 7).await;
        wait_caught_up(&app.store, &app.projections, &Definition::ALL).await;
        // Stop the full ("green") node; run a "blue" node that only knows v1 and the daily counts.
        app.workers.take().unwrap().shutdown().await;
        let v2_before = versions::load(&app.projections, Definition::ShipmentBoardV2)
            .await
            .unwrap();
        let rows_before = queries::board_rows(&app.projections, Definition::ShipmentBoardV2)
            .await
            .unwrap();
        let blue = Daemon::new(
            app.store.clone(),
            app.projections.clone(),
            "blue".into(),
            vec![Definition::ShipmentBoardV1, Definition::DailyShipmentsV1],
        )
        .start()
        .await
        .unwrap();
        random_history(&app.store, 10, 40, 8).await;
        wait_caught_up(
            &app.store,
            &app.projections,
            &[Definition::ShipmentBoardV1, Definition::DailyShipmentsV1],
        )
        .await;
        let v2_after = versions::load(&app.projections, Definition::ShipmentBoardV2)
            .await
            .unwrap();
        assert_eq!(v2_after.checkpoint, v2_before.checkpoint);
        assert_eq!(v2_after.events_applied, v2_before.events_applied);
        assert_eq!(
            queries::board_rows(&app.projections, Definition::ShipmentBoardV2)
                .await
                .unwrap(),
            rows_before
        );
        let v1 = versions::load(&app.projections, Definition::ShipmentBoardV1)
            .await
            .unwrap();
        assert_eq!(v1.owner_node.as_deref(), Some("blue"));
        blue.shutdown().await;
    }
);

both_backends!(
    blue_green_cutover_rollback_and_retire,
    |backend: Dialect| async move {
        let mut app = app_with_history(backend).await;
        let db = &app.projections;
        let (v1, v2) = (Definition::ShipmentBoardV1, Definition::ShipmentBoardV2);

        // A difference is found and shown: change one v2 row, compare, put it back.
        let v2_table = versions::load(db, v2).await.unwrap().physical_table;
        let some_id = queries::board_rows(db, v2).await.unwrap()[0]
            .shipment
            .id
            .to_string();
        let original: String = sqlx::query_scalar(&format!(
            "SELECT origin FROM {v2_table} WHERE shipment_id = $1"
        ))
        .bind(some_id.clone())
        .fetch_one(db.read())
        .await
        .unwrap();
        let set_origin = format!("UPDATE {v2_table} SET origin = $1 WHERE shipment_id = $2");
        db.execute(
            sqlx::query(&set_origin)
                .bind("Elsewhere")
                .bind(some_id.clone()),
        )
        .await
        .unwrap();
        let diff = diff::board_diff(db, v1, v2).await.unwrap();
        assert_eq!((diff.differing, diff.only_left, diff.only_right), (1, 0, 0));
        assert_eq!(diff.samples.len(), 1);
        assert_eq!(
            (diff.samples[0].shipment_id.as_str(), diff.samples[0].field),
            (some_id.as_str(), "origin")
        );
        assert_eq!(diff.samples[0].right.as_deref(), Some("Elsewhere"));
        db.execute(sqlx::query(&set_origin).bind(original).bind(some_id))
            .await
            .unwrap();

        let diff = diff::board_diff(db, v1, v2).await.unwrap();
        assert!(diff.identical(), "{diff:?}");
        assert_eq!((diff.left_rows, diff.right_rows), (40, 40));

        let refused = operator::cut_over(db, &app.store, v1, "admin")
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("already live"), "{refused}");
        // Going forward needs a recorded comparison (the readiness checklist).
        let not_compared = operator::cut_over(db, &app.store, v2, "admin")
            .await
            .unwrap_err();
        assert!(
            not_compared.to_string().contains("Compared with live"),
            "{not_compared}"
        );
        rollout::compare_with_live(db, "shipment_board")
            .await
            .unwrap();
        let detail = operator::cut_over(db, &app.store, v2, "admin")
            .await
            .unwrap();
        assert!(
            detail.starts_with("shipment_board@1 → shipment_board@2"),
            "{detail}"
        );
        let live: Vec<_> = versions::load_all(db)
            .await
            .unwrap()
            .into_iter()
            .filter(|v| v.state == VersionState::Live)
            .map(|v| v.def)
            .collect();
        assert_eq!(
            live,
            vec![Definition::DailyShipmentsV1, v2],
            "exactly one live version per projection"
        );
        let page = queries::board(db, &SearchCounts::default(), &first_board_page())
            .await
            .unwrap();
        assert_eq!(page.served_by, v2);
        assert!(
            page.rows.iter().any(|r| r.shipment.location_count > 0),
            "v2 rows carry locations"
        );

        // v1 stayed current on standby, so rolling back is the same flip, at once.
        assert_eq!(
            operator::cut_over(db, &app.store, v1, "admin")
                .await
                .unwrap()
                .split(' ')
                .next(),
            Some("shipment_board@2")
        );
        assert_eq!(
            queries::board(db, &SearchCounts::default(), &first_board_page())
                .await
                .unwrap()
                .served_by,
            v1
        );
        let audit = audit::recent(db, 5).await.unwrap();
        assert_eq!(
            (audit[0].action.as_str(), audit[0].actor.as_str()),
            ("rolled back", "admin")
        );
        assert_eq!(audit[1].action, AuditAction::CutOver);
        assert!(
            audit[1].detail.contains("shipment_board@2 at #"),
            "{}",
            audit[1].detail
        );

        // A candidate that is behind the log is refused.
        app.workers.take().unwrap().shutdown().await;
        random_history(&app.store, 2, 0, 9).await;
        let refused = operator::cut_over(db, &app.store, v2, "admin")
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("events behind"), "{refused}");
        let daemon = Daemon::new(
            app.store.clone(),
            db.clone(),
            "again".into(),
            Definition::ALL.to_vec(),
        )
        .start()
        .await
        .unwrap();
        wait_caught_up(&app.store, db, &Definition::ALL).await;
        operator::cut_over(db, &app.store, v2, "admin")
            .await
            .unwrap();

        // The old version is retired: no longer maintained, its table gone; a rebuild revives it.
        assert!(operator::retire(db, v2, "admin")
            .await
            .unwrap_err()
            .to_string()
            .contains("is live"));
        let old_table = versions::load(db, v1).await.unwrap().physical_table;
        operator::retire(db, v1, "admin").await.unwrap();
        let retired = versions::load(db, v1).await.unwrap();
        assert_eq!(retired.state, VersionState::Retired);
        random_history(&app.store, 3, 10, 10).await;
        wait_caught_up(&app.store, db, &[v2, Definition::DailyShipmentsV1]).await;
        assert_eq!(
            versions::load(db, v1).await.unwrap().checkpoint,
            retired.checkpoint,
            "retired is not maintained"
        );
        assert!(
            sqlx::query(&format!("SELECT 1 FROM {old_table}"))
                .fetch_all(db.read())
                .await
                .is_err(),
            "table dropped"
        );
        assert!(operator::cut_over(db, &app.store, v1, "admin")
            .await
            .is_err());
        operator::request_rebuild(db, v1, "admin", 0).await.unwrap();
        wait_caught_up(&app.store, db, &Definition::ALL).await;
        assert_eq!(
            versions::load(db, v1).await.unwrap().state,
            VersionState::Standby
        );
        assert_matches_fold(&app.store, db).await;
        daemon.shutdown().await;
    }
);
