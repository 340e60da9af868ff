//! The dispatch board's query (filter, search, paging) over 10,000 shipments seeded through the
//! real command path, on both backends, checked against a fold of the events.

use crate::both_backends;
use crate::helpers::{all_events, expected_board, first_board_page, wait_caught_up};
use crate::helpers::{spawn_app, Dialect};
use freightdesk::domain::ShipmentStatus;
use freightdesk::projections::queries::{
    board, BoardQuery, Cursor, CursorKey, SearchCounts, BOARD_PAGE_SIZE,
};
use freightdesk::projections::sort::SortColumn;
use freightdesk::projections::BoardRow;

/// The cursor a link would carry for a row, parsed as the server parses it.
fn key_of(row: &BoardRow) -> CursorKey {
    CursorKey::parse_for(
        SortColumn::PlannedPickup,
        &CursorKey::of_sorted(row, SortColumn::PlannedPickup),
    )
    .expect("a row's own key parses")
}
use freightdesk::projections::Definition;
use std::collections::HashSet;
use std::time::Instant;

both_backends!(
    board_queries_over_ten_thousand_shipments,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        freightdesk::seed::seed(&app.store, 10_000, 8)
            .await
            .unwrap();
        wait_caught_up(&app.store, &app.projections, &[Definition::ShipmentBoardV1]).await;
        let expected = expected_board(&all_events(&app.store).await);
        let db = &app.projections;

        let started = Instant::now();
        let first = board(db, &SearchCounts::default(), &first_board_page())
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
                &SearchCounts::default(),
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
            &SearchCounts::default(),
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
            &SearchCounts::default(),
            &BoardQuery {
                page: pages,
                ..BoardQuery::default()
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
                &SearchCounts::default(),
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
            &SearchCounts::default(),
            &BoardQuery {
                page: pages + 1,
                ..BoardQuery::default()
            },
        )
        .await
        .unwrap();
        assert!(beyond.rows.is_empty());

        // Next and previous by cursor land on the same rows as the offsets, at any depth.
        let ids = |page: &freightdesk::projections::queries::BoardPage| {
            page.rows.iter().map(|r| r.shipment.id).collect::<Vec<_>>()
        };
        let by_offset = |page| BoardQuery {
            page,
            ..Default::default()
        };
        let second = board(db, &SearchCounts::default(), &by_offset(2))
            .await
            .unwrap();
        let next = board(
            db,
            &SearchCounts::default(),
            &BoardQuery {
                page: 2,
                cursor: Some(Cursor::After(key_of(first.rows.last().unwrap()))),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(ids(&next), ids(&second));
        let back = board(
            db,
            &SearchCounts::default(),
            &BoardQuery {
                page: 1,
                cursor: Some(Cursor::Before(key_of(second.rows.first().unwrap()))),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(ids(&back), ids(&first));
        let before_last = board(db, &SearchCounts::default(), &by_offset(pages - 1))
            .await
            .unwrap();
        let started = Instant::now();
        let last_by_cursor = board(
            db,
            &SearchCounts::default(),
            &BoardQuery {
                page: pages,
                cursor: Some(Cursor::After(key_of(before_last.rows.last().unwrap()))),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        println!(
            "{backend:?}: last page by cursor in {:?}",
            started.elapsed()
        );
        assert_eq!(ids(&last_by_cursor), ids(&last));
        let filtered = BoardQuery {
            status: Some(ShipmentStatus::Delivered),
            page: 1,
            ..Default::default()
        };
        let delivered = board(db, &SearchCounts::default(), &filtered)
            .await
            .unwrap();
        let delivered_2 = board(
            db,
            &SearchCounts::default(),
            &BoardQuery {
                page: 2,
                cursor: Some(Cursor::After(key_of(delivered.rows.last().unwrap()))),
                ..filtered.clone()
            },
        )
        .await
        .unwrap();
        assert!(delivered_2
            .rows
            .iter()
            .all(|r| r.shipment.status == ShipmentStatus::Delivered));
        assert_eq!(delivered_2.total, delivered.total);
        // A cursor that is not a board position never reaches a query: it does not parse.
        assert!(CursorKey::parse_for(SortColumn::PlannedPickup, "nonsense").is_none());

        // The same walk as the browser does it: the server function hands out the cursors.
        let offset_ids = |page: i64| async move {
            board(db, &SearchCounts::default(), &by_offset(page))
                .await
                .unwrap()
                .rows
                .iter()
                .map(|r| r.shipment.id.to_string())
                .collect::<Vec<_>>()
        };
        let http_ids = |body: &serde_json::Value| {
            body["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["shipment"]["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let mut body: serde_json::Value = app
            .post_form("shipments/board", &[])
            .await
            .json()
            .await
            .unwrap();
        assert!(body["prev_cursor"].is_null());
        for page in 2..=3i64 {
            let cursor = body["next_cursor"].as_str().unwrap().to_string();
            body = app
                .post_form(
                    "shipments/board",
                    &[("page", &page.to_string()), ("after", &cursor)],
                )
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(
                http_ids(&body),
                offset_ids(page).await,
                "page {page} by cursor"
            );
        }
        let cursor = body["prev_cursor"].as_str().unwrap().to_string();
        let back: serde_json::Value = app
            .post_form("shipments/board", &[("page", "2"), ("before", &cursor)])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            http_ids(&back),
            offset_ids(2).await,
            "back to page 2 by cursor"
        );

        let some_id = last.rows[0].shipment.id.to_string();
        let by_id = board(
            db,
            &SearchCounts::default(),
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
