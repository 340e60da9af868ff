//! Item 3: a rebuild of `shipment_board@2` through the real daemon, in a process of its own
//! (for its peak memory), at two sizes; beside the same run's baseline "read every event in
//! order + bulk-write the same final rows".

use crate::harness::{progress, repeat, Figure, Fresh, RawPool, Scale, Target};
use freightdesk::db::{DatabaseUrl, PortableDb, TableName};
use freightdesk::projections::{operator, versions, Daemon, Definition};
use freightdesk::store::EventStore;
use std::time::{Duration, Instant};

pub const CHILD: &str = "rebuild-child";
const BOARD: Definition = Definition::ShipmentBoardV2;

/// Seeds whole shipments until the log holds at least `events` events.
async fn seed_to(store: &EventStore, events: u64) {
    let (_, mut have) = store.head().await.expect("head");
    let bar = progress(events, "seeding events");
    bar.set_position(have as u64);
    while (have as u64) < events {
        // About 3.4 events a shipment; never overshoot by much.
        let shipments = ((events - have as u64) / 4).clamp(100, 20_000);
        freightdesk::seed::seed(store, shipments, 4)
            .await
            .expect("seed");
        have = store.head().await.expect("head").1;
        bar.set_position(have as u64);
    }
    bar.finish_and_clear();
}

/// Keeps the board's own table current (so a rebuild is the only work left), in this process.
async fn catch_up(store: &EventStore, db: &PortableDb) {
    let daemon = Daemon::new(
        store.clone(),
        db.clone(),
        "bench-catch-up".into(),
        vec![BOARD],
    )
    .start()
    .await
    .expect("daemon");
    let (_, total) = store.head().await.expect("head");
    let bar = progress(total as u64, "projecting");
    loop {
        let row = versions::load(db, BOARD).await.expect("catalog");
        bar.set_position(row.events_applied as u64);
        if store.backlog(&row.checkpoint).await.expect("backlog").0 == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bar.finish_and_clear();
    daemon.shutdown().await;
}

/// What a rebuild in its own process measured.
struct Rebuilt {
    events_per_sec: f64,
    peak_rss_mb: f64,
}

/// The child's side: ask for a rebuild, run the daemon until it has finished, then report
/// the rate and this process's peak resident memory on the last line of stdout.
pub async fn child(url: &str) {
    let url = DatabaseUrl::parse(url).expect("url");
    let freightdesk::database::Database { store, db } = freightdesk::database::Database::open(&url)
        .await
        .expect("open the database");
    let (_, total) = store.head().await.expect("head");
    operator::request_rebuild(&db, BOARD, "bench", total)
        .await
        .expect("rebuild");
    let started = Instant::now();
    let daemon = Daemon::new(
        store.clone(),
        db.clone(),
        "bench-rebuild".into(),
        vec![BOARD],
    )
    .start()
    .await
    .expect("daemon");
    let bar = progress(total as u64, "rebuilding shipment_board@2");
    loop {
        let row = versions::load(&db, BOARD).await.expect("catalog");
        match row.rebuild {
            Some(r) => bar.set_position(r.done as u64),
            None => break,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    daemon.shutdown().await;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    println!(
        "{}",
        serde_json::json!({"events_per_sec": total as f64 / secs, "peak_rss_mb": peak_kb / 1024.0})
    );
}

async fn rebuild_in_child(url: &DatabaseUrl) -> Rebuilt {
    let exe = std::env::current_exe().expect("this program");
    let out = tokio::process::Command::new(exe)
        .arg(CHILD)
        .arg(url.as_str())
        .stderr(std::process::Stdio::inherit())
        .output()
        .await
        .expect("run the rebuild");
    assert!(out.status.success(), "the rebuild process failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().expect("a report line");
    let v: serde_json::Value = serde_json::from_str(last).expect("a JSON report");
    Rebuilt {
        events_per_sec: v["events_per_sec"].as_f64().expect("rate"),
        peak_rss_mb: v["peak_rss_mb"].as_f64().expect("rss"),
    }
}

/// The baseline: every event read in log order, then the same number of final rows bulk-written
/// (copied server-side from the board's own table into an empty one of the same shape).
async fn baseline(store: &EventStore, db: &PortableDb, raw: &RawPool, run: usize) -> f64 {
    let (_, total) = store.head().await.expect("head");
    let source = versions::load(db, BOARD)
        .await
        .expect("catalog")
        .physical_table;
    let target =
        TableName::parse(&format!("bench_rows_{run}_{}", std::process::id())).expect("name");
    let mut tx = db.begin().await.expect("begin");
    BOARD.create_table(&mut tx, &target).await.expect("table");
    tx.commit().await.expect("commit");
    let started = Instant::now();
    match raw {
        RawPool::Postgres(pool) => {
            use futures::StreamExt;
            use sqlx::postgres::PgPoolCopyExt;
            let mut out = pool
            .copy_out_raw(
                "COPY (SELECT id, stream_id, version, event_type, schema_version, data, metadata,
                              recorded_at, seq, tx_id FROM events ORDER BY tx_id, seq) TO STDOUT",
            )
            .await
            .expect("copy out");
            let mut bytes = 0usize;
            while let Some(chunk) = out.next().await {
                bytes += chunk.expect("copy").len();
            }
            assert!(bytes > 0);
        }
        RawPool::Sqlite(pool, _) => {
            use futures::TryStreamExt;
            let mut rows = sqlx::query(
            "SELECT id, stream_id, version, event_type, schema_version, data, metadata, recorded_at, seq
             FROM events ORDER BY seq",
        )
        .fetch(pool);
            let mut n = 0i64;
            while rows.try_next().await.expect("read").is_some() {
                n += 1;
            }
            assert_eq!(n, total);
        }
    }
    let mut tx = db.begin().await.expect("begin");
    sqlx::query(&format!("INSERT INTO {target} SELECT * FROM {source}"))
        .execute(&mut *tx)
        .await
        .expect("bulk write");
    tx.commit().await.expect("commit");
    let secs = started.elapsed().as_secs_f64();
    let mut tx = db.begin().await.expect("begin");
    BOARD.drop_table(&mut tx, &target).await.expect("drop");
    tx.commit().await.expect("commit");
    total as f64 / secs
}

pub async fn item3(fresh: &Fresh, scale: Scale) -> Vec<Figure> {
    let backend = fresh.backend;
    let (store, db) = fresh.connect().await;
    let raw = fresh.raw().await;
    let mut sizes = Vec::new();
    for events in [scale.rebuild_small, scale.rebuild_large] {
        seed_to(&store, events).await;
        catch_up(&store, &db).await;
        let (_, have) = store.head().await.expect("head");
        let rebuilt: Vec<Rebuilt> = {
            let mut v = Vec::new();
            for _ in 0..scale.runs {
                v.push(rebuild_in_child(&fresh.url).await);
            }
            v
        };
        let base = repeat(scale.runs, |run| baseline(&store, &db, &raw, run)).await;
        sizes.push((have, rebuilt, base));
    }
    let mut figures = Vec::new();
    for (events, rebuilt, base) in &sizes {
        let base = Figure::new(
            3,
            format!("read in order + bulk-write, {events} events"),
            backend,
            "events/s",
        )
        .runs(base.clone());
        let name = base.name.clone();
        let value = base.value();
        figures.push(base);
        figures.push(
            Figure::new(
                3,
                format!("rebuild shipment_board@2, {events} events"),
                backend,
                "events/s",
            )
            .runs(rebuilt.iter().map(|r| r.events_per_sec).collect())
            .against(name, value)
            .target(Target::RatioAtLeast(0.5)),
        );
    }
    let (large_events, large, _) = &sizes[1];
    let (small_events, small, _) = &sizes[0];
    figures.push(
        Figure::new(
            3,
            format!("rebuild rate, {large_events} events"),
            backend,
            "events/s",
        )
        .runs(large.iter().map(|r| r.events_per_sec).collect())
        .target(Target::AtLeast(100_000.0)),
    );
    let small_rss =
        crate::harness::median(&small.iter().map(|r| r.peak_rss_mb).collect::<Vec<_>>());
    figures.push(
        Figure::new(
            3,
            format!("rebuild peak RSS, {large_events} events"),
            backend,
            "MB",
        )
        .runs(large.iter().map(|r| r.peak_rss_mb).collect())
        .against(format!("peak RSS at {small_events} events"), small_rss)
        .target(Target::RatioAtMost(1.2)),
    );
    for f in &figures {
        f.print();
    }
    store.close().await;
    db.close().await;
    figures
}
