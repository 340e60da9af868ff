//! The board read from its indexes (issue 19): totals from the kept counts, searches read
//! either through the search index or in the page's order, every order, and compressed
//! answers. Every page is checked against the live table's rows, filtered and sorted here.

use crate::both_backends;
use crate::helpers::{eventually, spawn_app, wait_caught_up, Dialect};
use flate2::read::GzDecoder;
use freightdesk::domain::ShipmentStatus;
use freightdesk::projections::queries::{
    board, board_rows, BoardQuery, Cursor, CursorKey, SearchCounts, BOARD_PAGE_SIZE,
};
use freightdesk::projections::sort::{BoardSort, SortColumn};
use freightdesk::projections::{operator, BoardRow, Definition};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use std::io::Read;

/// The row's value in `column` as the table stores it (times as fixed-width text).
fn sort_value(row: &BoardRow, column: SortColumn) -> String {
    let key = CursorKey::of_sorted(row, column);
    key.rsplit_once('|').unwrap().0.to_string()
}

/// What the board should show for `query`, from every row: filtered and sorted here.
fn expected(rows: &[BoardRow], query: &BoardQuery) -> Vec<String> {
    let term = query.search.as_deref().map(str::to_lowercase);
    let mut wanted: Vec<&BoardRow> = rows
        .iter()
        .filter(|r| query.status.is_none_or(|s| r.shipment.status == s))
        .filter(|r| {
            term.as_deref().is_none_or(|t| {
                r.shipment.origin.to_lowercase().contains(t)
                    || r.shipment.destination.to_lowercase().contains(t)
                    || r.shipment.id.to_string().contains(t)
            })
        })
        .collect();
    let column = query.sort.column;
    wanted.sort_by_key(|r| (sort_value(r, column), r.shipment.id.to_string()));
    if query.sort.descending {
        wanted.reverse();
    }
    wanted.iter().map(|r| r.shipment.id.to_string()).collect()
}

fn ids(rows: &[BoardRow]) -> Vec<String> {
    rows.iter().map(|r| r.shipment.id.to_string()).collect()
}

both_backends!(
    searches_and_orders_read_from_indexes_show_exactly_the_matching_rows,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        freightdesk::seed::seed(&app.store, 2_000, 8).await.unwrap();
        wait_caught_up(&app.store, &app.projections, &[Definition::ShipmentBoardV1]).await;
        let db = &app.projections;
        let rows = board_rows(db, Definition::ShipmentBoardV1).await.unwrap();
        let remembered = SearchCounts::default();
        let fragment = rows[0].shipment.id.to_string()[9..18].to_string();
        // "ars" (Warsaw, Marseille) and "an" are on a quarter and more of the board: read in
        // order. "Rotterdam" is on an eighth and an id fragment on one row: read through the
        // search index. Upper case finds the same.
        let searches = [
            None,
            Some("ars"),
            Some("ARS"),
            Some("an"),
            Some("rotterdam"),
        ]
        .map(|s| s.map(str::to_string))
        .into_iter()
        .chain([Some(fragment)]);
        for search in searches {
            for status in [
                None,
                Some(ShipmentStatus::Delivered),
                Some(ShipmentStatus::Scheduled),
            ] {
                for sort in [
                    "-pickup",
                    "origin",
                    "-origin",
                    "destination",
                    "status",
                    "-status",
                ] {
                    let query = BoardQuery {
                        status,
                        search: search.clone(),
                        page: 1,
                        sort: BoardSort::parse(sort).unwrap(),
                        ..Default::default()
                    };
                    let what = format!("{search:?} {status:?} {sort}");
                    let want = expected(&rows, &query);
                    let first = board(db, &remembered, &query).await.unwrap();
                    assert_eq!(first.total, want.len() as i64, "{what}: total");
                    let page = BOARD_PAGE_SIZE as usize;
                    assert_eq!(ids(&first.rows), want[..want.len().min(page)], "{what}");
                    assert_eq!(first.has_next, want.len() > page, "{what}: has_next");
                    if !first.has_next {
                        continue;
                    }
                    let last = first.rows.last().unwrap();
                    let key = CursorKey::parse_for(
                        query.sort.column,
                        &CursorKey::of_sorted(last, query.sort.column),
                    )
                    .unwrap();
                    let next = BoardQuery {
                        page: 2,
                        cursor: Some(Cursor::After(key)),
                        ..query.clone()
                    };
                    let second = board(db, &remembered, &next).await.unwrap();
                    assert_eq!(
                        ids(&second.rows),
                        want[page..want.len().min(2 * page)],
                        "{what}: the next page"
                    );
                    let by_offset = board(db, &remembered, &BoardQuery { page: 2, ..query })
                        .await
                        .unwrap();
                    assert_eq!(ids(&by_offset.rows), ids(&second.rows), "{what}: page 2");
                }
            }
        }
    }
);

both_backends!(
    totals_stay_exact_as_shipments_arrive_and_move,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        let total = |search: &'static str, status: &'static str| {
            let app = &app;
            async move {
                let body: serde_json::Value = app
                    .post_form("shipments/board", &[("search", search), ("status", status)])
                    .await
                    .json()
                    .await
                    .unwrap();
                body["total"].as_i64().unwrap()
            }
        };
        let settle =
            || wait_caught_up(&app.store, &app.projections, &[Definition::ShipmentBoardV1]);
        let first = app.schedule("Ghent").await;
        app.schedule("Ghent").await;
        app.schedule("Leuven").await;
        settle().await;
        assert_eq!(total("", "").await, 3);
        assert_eq!(total("ghent", "").await, 2);
        assert_eq!(total("ghent", "Scheduled").await, 2);
        assert_eq!(total("ghent", "InTransit").await, 0);
        // Asked again with nothing changed: the same (remembered) answer.
        assert_eq!(total("ghent", "").await, 2);

        // A new match, and one moving to another status: every remembered count moves.
        app.schedule("Ghent").await;
        let picked = app
            .post_form(
                "shipments/pick-up",
                &[
                    ("shipment_id", first.id.as_str()),
                    ("expected_version", &first.version.to_string()),
                ],
            )
            .await;
        assert_eq!(picked.status(), 200);
        settle().await;
        assert_eq!(total("", "").await, 4);
        assert_eq!(total("", "Scheduled").await, 3);
        assert_eq!(total("ghent", "").await, 3);
        assert_eq!(total("ghent", "Scheduled").await, 2);
        assert_eq!(total("ghent", "InTransit").await, 1);
        assert_eq!(total("leuven", "InTransit").await, 0);
    }
);

both_backends!(
    a_board_table_made_before_counts_were_kept_is_counted_at_start,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        freightdesk::seed::seed(&app.store, 300, 4).await.unwrap();
        wait_caught_up(&app.store, &app.projections, &[Definition::ShipmentBoardV1]).await;
        let db = &app.projections;
        let rows = board_rows(db, Definition::ShipmentBoardV1).await.unwrap();
        let first_page = BoardQuery {
            page: 1,
            ..Default::default()
        };
        let total = || async {
            board(db, &SearchCounts::default(), &first_page)
                .await
                .unwrap()
                .total
        };
        assert_eq!(total().await, rows.len() as i64);

        // As an older freightdesk left it: no counts at all.
        db.execute(sqlx::query("DELETE FROM board_counts"))
            .await
            .unwrap();
        assert_eq!(total().await, 0, "the board reads the counts, not the rows");
        // What a node does at start for every version it knows.
        operator::register(db, Definition::ShipmentBoardV1)
            .await
            .unwrap();
        assert_eq!(total().await, rows.len() as i64);
        for status in ShipmentStatus::ALL {
            let want = rows.iter().filter(|r| r.shipment.status == status).count();
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
            assert_eq!(page.total, want as i64, "{status}");
        }
        // And it keeps counting from there.
        app.schedule("Ghent").await;
        wait_caught_up(&app.store, db, &[Definition::ShipmentBoardV1]).await;
        assert_eq!(total().await, rows.len() as i64 + 1);
    }
);

/// The body as text after undoing its `Content-Encoding` (none, gzip or br).
pub(crate) fn decoded(encoding: Option<&str>, body: &[u8]) -> String {
    let mut out = Vec::new();
    match encoding {
        None => out.extend_from_slice(body),
        Some("gzip") => {
            GzDecoder::new(body).read_to_end(&mut out).unwrap();
        }
        Some("br") => {
            brotli_decompressor::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        Some(other) => panic!("unexpected Content-Encoding {other}"),
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn pages_and_json_answers_are_compressed_as_the_client_accepts() {
    let app = spawn_app(Dialect::Sqlite).await;
    for _ in 0..60 {
        app.schedule("Rotterdam").await;
    }
    wait_caught_up(&app.store, &app.projections, &[Definition::ShipmentBoardV1]).await;
    for (accepted, expected) in [
        (Some("gzip, deflate, br, zstd"), Some("br")),
        (Some("gzip"), Some("gzip")),
        (Some("br;q=0.1, gzip;q=0.9"), Some("gzip")),
        (None, None),
    ] {
        let with = |request: reqwest::RequestBuilder| match accepted {
            Some(accepted) => request.header(ACCEPT_ENCODING, accepted),
            None => request,
        };
        let page = with(app.client.get(format!("{}/", app.address)))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let encoding = page
            .headers()
            .get(CONTENT_ENCODING)
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(encoding.as_deref(), expected, "the page with {accepted:?}");
        if expected.is_some() {
            let vary = page.headers().get(VARY).unwrap().to_str().unwrap();
            assert!(vary.to_lowercase().contains("accept-encoding"));
        }
        let body = page.bytes().await.unwrap();
        let html = decoded(expected, &body);
        assert!(html.contains("Rotterdam"), "the page with {accepted:?}");
        if expected.is_some() {
            assert!(
                body.len() * 3 < html.len(),
                "compressed well: {}",
                body.len()
            );
        }

        let answer = with(
            app.client
                .post(format!("{}/api/shipments/board", app.address))
                .header("Accept", "application/json"),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(answer.status(), 200);
        let encoding = answer
            .headers()
            .get(CONTENT_ENCODING)
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(encoding.as_deref(), expected, "JSON with {accepted:?}");
        let body = answer.bytes().await.unwrap();
        let json: serde_json::Value = serde_json::from_str(&decoded(expected, &body)).unwrap();
        assert_eq!(json["total"], 60);
    }
}

#[tokio::test]
async fn live_updates_are_not_held_back_by_compression() {
    let app = spawn_app(Dialect::Sqlite).await;
    let mut live = app
        .client
        .get(format!("{}/live/board", app.address))
        .header(ACCEPT_ENCODING, "gzip, deflate, br, zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    assert!(live.headers().get(CONTENT_ENCODING).is_none());
    let content_type = live.headers().get(CONTENT_TYPE).unwrap().to_str().unwrap();
    assert!(content_type.starts_with("text/event-stream"));
    let scheduled = app.schedule("Ghent").await;
    // Each event arrives by itself, as it is sent: a compressor would sit on it.
    let event = eventually("the live event", async || {
        match tokio::time::timeout(std::time::Duration::from_secs(1), live.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                let text = String::from_utf8_lossy(&chunk).to_string();
                if text.contains("data:") {
                    Ok(text)
                } else {
                    Err(text)
                }
            }
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert!(event.contains(&scheduled.position.to_string()), "{event}");
}
