//! `make bench`: seeds shipments through the real command path, then prints how fast the
//! projections catch up, how fast the dispatch board answers (first page, filter, search, last
//! page) and how long an append takes to become visible on the board. Figures, not assertions.
//!
//! BENCH_SHIPMENTS (default 100000) and BENCH_DATABASE_URL (default: a temp SQLite file).

use freightdesk::db::{DatabaseUrl, PortableDb as ProjectionDb};
use freightdesk::domain::{PlaceName, ShipmentCommand, ShipmentId, ShipmentStatus};
use freightdesk::projections::queries::{board, BoardQuery, Cursor, CursorKey};
use freightdesk::projections::{versions, Daemon, Definition};
use freightdesk::store::shipments::{execute, CommandContext};
use freightdesk::store::{EventStore, ExpectedVersion};
use std::time::{Duration, Instant};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn time_query(db: &ProjectionDb, query: BoardQuery) -> Duration {
    let mut samples = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        board(db, &query).await.expect("board query");
        samples.push(started.elapsed());
    }
    median(samples)
}

async fn caught_up(store: &EventStore, db: &ProjectionDb) -> bool {
    for def in Definition::ALL {
        let row = versions::load(db, def).await.expect("catalog");
        if store.backlog(row.checkpoint).await.expect("backlog").0 > 0 {
            return false;
        }
    }
    true
}

#[tokio::main]
async fn main() {
    let shipments: u64 = std::env::var("BENCH_SHIPMENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite:{}", dir.path().join("bench.db").display()));
    let url = DatabaseUrl::parse(&url).expect("database URL");
    let store = EventStore::connect(&url).await.expect("store");
    let db = ProjectionDb::connect(&url).await.expect("projection db");
    println!("backend: {}, shipments: {shipments}", store.backend_name());

    let started = Instant::now();
    let report = freightdesk::seed::seed(&store, shipments, 8)
        .await
        .expect("seed");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "seed: {} events in {secs:.1}s = {:.0} commands/s",
        report.events,
        report.events as f64 / secs
    );

    let started = Instant::now();
    let daemon = Daemon::new(
        store.clone(),
        db.clone(),
        "bench".into(),
        Definition::ALL.to_vec(),
    )
    .start()
    .await
    .expect("daemon");
    while !caught_up(&store, &db).await {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "projections from scratch (3 versions): {secs:.1}s = {:.0} events/s per version",
        report.events as f64 / secs
    );

    let total = board(&db, &BoardQuery::page(1)).await.expect("board").total;
    let pages = (total + 49) / 50;
    for (label, query) in [
        ("board first page", BoardQuery::page(1)),
        (
            "board status=InTransit",
            BoardQuery {
                status: Some(ShipmentStatus::InTransit),
                page: 1,
                ..Default::default()
            },
        ),
        (
            "board search 'rotter'",
            BoardQuery {
                search: Some("rotter".into()),
                page: 1,
                ..Default::default()
            },
        ),
        ("board last page", BoardQuery::page(pages)),
    ] {
        println!("{label}: median {:?}", time_query(&db, query).await);
    }

    // What the board's "Next" link does: continue after a row, here one near the end.
    let deep = board(&db, &BoardQuery::page(pages - 1))
        .await
        .expect("board");
    let last = CursorKey::of(deep.rows.last().expect("rows"));
    let cursor = Cursor::After(CursorKey::parse(&last).expect("a row's cursor parses"));
    let query = BoardQuery {
        page: pages,
        cursor: Some(cursor),
        ..Default::default()
    };
    println!(
        "board last page by cursor (Next): median {:?}",
        time_query(&db, query).await
    );

    // Append-to-visible: schedule a shipment, poll the board (by id) until it shows.
    let ctx = CommandContext::new("bench");
    let mut samples = Vec::new();
    for _ in 0..20 {
        let id = ShipmentId::generate();
        let command = ShipmentCommand::Schedule {
            shipment_id: id,
            origin: PlaceName::parse("origin", "Bench").expect("valid"),
            destination: PlaceName::parse("destination", "Mark").expect("valid"),
            pickup_planned_at: chrono::Utc::now(),
        };
        let started = Instant::now();
        execute(&store, id, ExpectedVersion::NoStream, &command, &ctx)
            .await
            .expect("schedule");
        let query = BoardQuery {
            search: Some(id.to_string()),
            page: 1,
            ..Default::default()
        };
        while board(&db, &query).await.expect("board").total == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        samples.push(started.elapsed());
    }
    println!(
        "append-to-visible on the board: median {:?}, max {:?}",
        median(samples.clone()),
        samples.iter().max().unwrap()
    );
    daemon.shutdown().await;
}
