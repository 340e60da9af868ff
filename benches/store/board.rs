//! Items 4 and 5 on a seeded board: how long from a command's answer until the live board row
//! reflects it while 16 other writers keep appending (on PostgreSQL also with an unrelated
//! write transaction held open in another database of the server for the whole run), and
//! board search latency.

use crate::harness::{progress, quantile, Figure, Fresh, Scale, Target};
use freightdesk::db::PortableDb;
use freightdesk::domain::{PlaceName, ShipmentCommand, ShipmentId};
use freightdesk::projections::queries::{board, BoardQuery, SearchCounts};
use freightdesk::projections::{versions, Daemon, Definition};
use freightdesk::store::shipments::{execute, CommandContext};
use freightdesk::store::{EventStore, ExpectedVersion};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn seed_board(store: &EventStore, shipments: u64) {
    let bar = progress(shipments, "seeding shipments");
    let mut done = 0;
    while done < shipments {
        let n = (shipments - done).min(5_000);
        freightdesk::seed::seed(store, n, 4).await.expect("seed");
        done += n;
        bar.set_position(done);
    }
    bar.finish_and_clear();
}

async fn wait_caught_up(store: &EventStore, db: &PortableDb) {
    let (_, total) = store.head().await.expect("head");
    let bar = progress(
        total as u64 * Definition::ALL.len() as u64,
        "projecting 3 versions",
    );
    loop {
        let mut applied = 0;
        let mut behind = 0;
        for def in Definition::ALL {
            let row = versions::load(db, def).await.expect("catalog");
            applied += row.events_applied;
            behind += store.backlog(&row.checkpoint).await.expect("backlog").0;
        }
        bar.set_position(applied as u64);
        if behind == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bar.finish_and_clear();
}

async fn in_transit(store: &EventStore) -> (ShipmentId, i64) {
    let id = ShipmentId::generate();
    let ctx = CommandContext::new("bench");
    let now = chrono::Utc::now();
    let schedule = ShipmentCommand::Schedule {
        shipment_id: id,
        origin: PlaceName::parse("origin", "Bench").expect("valid"),
        destination: PlaceName::parse("destination", "Mark").expect("valid"),
        pickup_planned_at: now,
    };
    let a = execute(store, id, ExpectedVersion::NoStream, &schedule, &ctx)
        .await
        .expect("schedule");
    let a = execute(
        store,
        id,
        ExpectedVersion::Exactly(a.version),
        &ShipmentCommand::PickUp { at: now },
        &ctx,
    )
    .await
    .expect("pick up");
    (id, a.version)
}

fn report(at: chrono::DateTime<chrono::Utc>) -> ShipmentCommand {
    ShipmentCommand::RecordLocation {
        location: PlaceName::parse("location", "Basel").expect("valid"),
        position: None,
        notes: None,
        at,
    }
}

/// Writers appending beside the measured one.
const OTHER_WRITERS: usize = 16;

/// Milliseconds from each command's answer until the live board shows its version.
async fn visible_run(store: &EventStore, db: &PortableDb, commands: usize) -> Vec<f64> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut others = Vec::new();
    for _ in 0..OTHER_WRITERS {
        let (store, stop) = (store.clone(), stop.clone());
        others.push(tokio::spawn(async move {
            let (id, mut version) = in_transit(&store).await;
            let ctx = CommandContext::new("bench-writer");
            while !stop.load(Ordering::Relaxed) {
                let a = execute(
                    &store,
                    id,
                    ExpectedVersion::Exactly(version),
                    &report(chrono::Utc::now()),
                    &ctx,
                )
                .await
                .expect("writer");
                version = a.version;
            }
        }));
    }
    let (id, mut version) = in_transit(store).await;
    let ctx = CommandContext::new("bench");
    let query = BoardQuery {
        search: Some(id.to_string()),
        page: 1,
        ..Default::default()
    };
    let mut samples = Vec::with_capacity(commands);
    for _ in 0..commands {
        let a = execute(
            store,
            id,
            ExpectedVersion::Exactly(version),
            &report(chrono::Utc::now()),
            &ctx,
        )
        .await
        .expect("command");
        version = a.version;
        let answered = Instant::now();
        loop {
            let page = board(db, &SearchCounts::default(), &query)
                .await
                .expect("board");
            if page.rows.first().is_some_and(|r| r.version >= version) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        samples.push(answered.elapsed().as_secs_f64() * 1000.0);
    }
    stop.store(true, Ordering::Relaxed);
    for o in others {
        o.await.expect("writer");
    }
    samples
}

/// Search latencies in milliseconds for one term, `n` times, with the match counts remembered
/// across requests as the server remembers them (`AppState::search_counts`): on a board at
/// rest only the first request counts.
async fn search_run(db: &PortableDb, term: &str, n: usize) -> Vec<f64> {
    let remembered = SearchCounts::default();
    let query = BoardQuery {
        search: Some(term.to_string()),
        page: 1,
        ..Default::default()
    };
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        board(db, &remembered, &query).await.expect("search");
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples
}

/// Latencies in milliseconds of each city asked for once, its matches counted afresh: what the
/// first search for a term costs, or any search right after the daemon added shipments.
async fn first_search_run(db: &PortableDb) -> Vec<f64> {
    let mut samples = Vec::new();
    for city in CITY_TERMS {
        let query = BoardQuery {
            search: Some(city.to_string()),
            page: 1,
            ..Default::default()
        };
        let started = Instant::now();
        board(db, &SearchCounts::default(), &query)
            .await
            .expect("search");
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples
}

/// A piece of each city `freightdesk::seed` uses: each is on about one shipment in eight.
const CITY_TERMS: [&str; 8] = [
    "rotter", "hambur", "antwer", "milan", "vienna", "warsaw", "madrid", "prague",
];

/// Item 4's p50 and p99 over `scale.runs` runs.
async fn visible_figures(
    store: &EventStore,
    db: &PortableDb,
    backend: &'static str,
    scale: Scale,
    condition: &str,
) -> Vec<Figure> {
    let (mut p50, mut p99) = (Vec::new(), Vec::new());
    for _ in 0..scale.runs {
        let samples = visible_run(store, db, scale.visible_commands).await;
        p50.push(quantile(&samples, 0.5));
        p99.push(quantile(&samples, 0.99));
    }
    let n = scale.visible_commands;
    let name = |q: &str| {
        format!("append to visible {q}, {n} commands, {OTHER_WRITERS} other writers{condition}")
    };
    vec![
        Figure::new(4, name("p50"), backend, "ms").runs(p50),
        Figure::new(4, name("p99"), backend, "ms")
            .runs(p99)
            .target(Target::Below(20.0)),
    ]
}

/// Item 4 again while a write transaction stays open in another database of the same server,
/// as a forgotten `psql` session would: only an event's own transaction may delay it.
async fn visible_with_unrelated_open(
    store: &EventStore,
    db: &PortableDb,
    admin_url: &str,
    scale: Scale,
) -> Vec<Figure> {
    use sqlx::Connection;
    let unrelated = Fresh::postgres(admin_url).await;
    let mut conn = sqlx::PgConnection::connect(unrelated.url.as_str())
        .await
        .expect("connect to the unrelated database");
    for sql in ["BEGIN", "CREATE TABLE forgotten (id int)"] {
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
    }
    let condition = ", an unrelated transaction open in another database";
    let figures = visible_figures(store, db, "postgres", scale, condition).await;
    sqlx::query("ROLLBACK")
        .execute(&mut conn)
        .await
        .expect("rollback");
    drop(conn);
    unrelated.drop_database().await;
    figures
}

/// `admin_url`: on PostgreSQL, the server's admin URL, for item 4's run beside an unrelated
/// open transaction; `item4`: false measures search only.
pub async fn items_4_and_5(
    store: &EventStore,
    db: &PortableDb,
    backend: &'static str,
    scale: Scale,
    admin_url: Option<&str>,
    item4: bool,
) -> Vec<Figure> {
    seed_board(store, scale.board_shipments).await;
    let daemon = Daemon::new(
        store.clone(),
        db.clone(),
        "bench".into(),
        Definition::ALL.to_vec(),
    )
    .start()
    .await
    .expect("daemon");
    wait_caught_up(store, db).await;
    let shipments = scale.board_shipments;

    // Item 5: a broad term (a city: about one shipment in eight) and a narrow one (a piece of
    // one shipment's id).
    let first = BoardQuery {
        page: 1,
        ..BoardQuery::default()
    };
    let page = board(db, &SearchCounts::default(), &first)
        .await
        .expect("board");
    let id = page.rows.first().expect("rows").shipment.id.to_string();
    let fragment = id[9..18].to_string();
    let per_run = if scale.quick { 20 } else { 200 };
    let mut figures = Vec::new();
    for (label, term) in [
        ("a city", "rotter".to_string()),
        ("an id fragment", fragment),
    ] {
        let mut p99 = Vec::new();
        for _ in 0..scale.runs {
            p99.push(quantile(&search_run(db, &term, per_run).await, 0.99));
        }
        figures.push(
            Figure::new(
                5,
                format!("board search p99, {label}, {shipments} shipments"),
                backend,
                "ms",
            )
            .runs(p99)
            .target(Target::Below(10.0)),
        );
    }
    let mut slowest = Vec::new();
    for _ in 0..scale.runs {
        slowest.push(quantile(&first_search_run(db).await, 1.0));
    }
    figures.push(
        Figure::new(
            5,
            format!(
                "board search, a city asked for the first time (matches counted), slowest of {}, {shipments} shipments",
                CITY_TERMS.len()
            ),
            backend,
            "ms",
        )
        .runs(slowest),
    );

    // Item 4 (BENCH_ITEMS=5 leaves it out: at 100,000 shipments it is the long part).
    if item4 {
        figures.extend(visible_figures(store, db, backend, scale, "").await);
        if let Some(admin_url) = admin_url {
            figures.extend(visible_with_unrelated_open(store, db, admin_url, scale).await);
        }
    }
    daemon.shutdown().await;
    for f in &figures {
        f.print();
    }
    figures
}
