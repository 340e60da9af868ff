//! The dispatch board's query (filter, search, paging) over 10,000 shipments seeded through the
//! real command path, on both backends, checked against a fold of the events.

use crate::both_backends;
use crate::helpers::{spawn_app, Backend};
use crate::projections::{all_events, expected_board, wait_caught_up};
use freightdesk::domain::ShipmentStatus;
use freightdesk::projections::queries::{board, BoardQuery, BOARD_PAGE_SIZE};
use freightdesk::projections::Definition;
use std::collections::HashSet;
use std::time::Instant;

both_backends!(
    board_queries_over_ten_thousand_shipments,
    |backend: Backend| async move {
        let app = spawn_app(backend).await;
        freightdesk::seed::seed(&app.store, 10_000, 8)
            .await
            .unwrap();
        wait_caught_up(&app.store, &app.projections, &[Definition::ShipmentBoardV1]).await;
        let expected = expected_board(&all_events(&app.store).await);
        let db = &app.projections;

        let started = Instant::now();
        let first = board(
            db,
            &BoardQuery {
                page: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        println!(
            "{backend:?}: first page of 10,000 in {:?}",
            started.elapsed()
        );
        assert_eq!(first.total, 10_000);
        assert_eq!(first.rows.len() as i64, BOARD_PAGE_SIZE);
        let times: Vec<_> = first.rows.iter().map(|r| r.shipment.scheduled_at).collect();
        assert!(
            times.windows(2).all(|w| w[0] >= w[1]),
            "newest planned pickup first"
        );

        for status in ShipmentStatus::ALL {
            let want = expected
                .values()
                .filter(|e| e.status == status.as_str())
                .count() as i64;
            let page = board(
                db,
                &BoardQuery {
                    status: Some(status),
                    page: 1,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            assert_eq!(page.total, want, "{status}");
            assert!(page.rows.iter().all(|r| r.shipment.status == status));
        }

        let want = expected
            .values()
            .filter(|e| e.origin == "Rotterdam" || e.destination == "Rotterdam")
            .count() as i64;
        let started = Instant::now();
        let rotterdam = board(
            db,
            &BoardQuery {
                search: Some("rotterdam".into()),
                page: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        println!("{backend:?}: search over 10,000 in {:?}", started.elapsed());
        assert_eq!(rotterdam.total, want);

        // Pages partition the result: the last page holds the remainder, no row appears twice.
        let pages = (first.total + BOARD_PAGE_SIZE - 1) / BOARD_PAGE_SIZE;
        let started = Instant::now();
        let last = board(
            db,
            &BoardQuery {
                page: pages,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        println!("{backend:?}: last page in {:?}", started.elapsed());
        assert_eq!(
            last.rows.len() as i64,
            first.total - (pages - 1) * BOARD_PAGE_SIZE
        );
        let mut seen = HashSet::new();
        for page in 1..=3 {
            for row in board(
                db,
                &BoardQuery {
                    page,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .rows
            {
                assert!(seen.insert(row.shipment.id), "row on two pages");
            }
        }
        let beyond = board(
            db,
            &BoardQuery {
                page: pages + 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(beyond.rows.is_empty());

        let some_id = last.rows[0].shipment.id.to_string();
        let by_id = board(
            db,
            &BoardQuery {
                search: Some(some_id.clone()),
                page: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(by_id.total, 1);
        assert_eq!(by_id.rows[0].shipment.id.to_string(), some_id);
    }
);
