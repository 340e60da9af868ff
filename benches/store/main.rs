//! `make bench`: the store and projection figures of issue 14 (items 1–5) and webhook
//! deliveries (item 8, issue 19), each the median of
//! several runs beside a baseline measured in the same run, on PostgreSQL and on SQLite, written
//! to `target/bench/parts/store.json` for `scripts/bench-report.py` to merge and print.
//!
//! QUICK=1: everything small. BENCH_DATABASE_URL: the PostgreSQL server to create fresh
//! databases on (default TEST_DATABASE_URL, else the local one). While working on one figure:
//! BENCH_ITEMS=1,3 runs only those items, BENCH_BACKENDS=sqlite only that backend (the report
//! then says what is missing).

mod append;
mod board;
mod harness;
mod rebuild;
mod webhooks;

use harness::RawPool;
use harness::{Fresh, Scale};
use serde_json::json;
use std::path::Path;

const PART: &str = "target/bench/parts/store.json";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == rebuild::CHILD) {
        // A rebuild in a process of its own, so its peak memory is the rebuild's alone.
        rebuild::child(args.get(i + 1).expect("a database URL")).await;
        return;
    }
    let scale = Scale::from_env();
    let admin_url = std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    println!(
        "store bench ({}): PostgreSQL on {}, SQLite in a temp file",
        if scale.quick { "QUICK" } else { "full" },
        freightdesk::db::DatabaseUrl::parse(&admin_url).map_or(admin_url.clone(), |u| u.redacted())
    );
    let items = Only::from_env("BENCH_ITEMS");
    let backends = Only::from_env("BENCH_BACKENDS");
    let mut figures = Vec::new();
    let mut machine = json!({});
    for postgres in [true, false] {
        if !backends.allows(if postgres { "postgres" } else { "sqlite" }) {
            continue;
        }
        let fresh = if postgres {
            Fresh::postgres(&admin_url).await
        } else {
            Fresh::sqlite()
        };
        let backend = fresh.backend;
        println!("{backend}:");
        let (store, db) = fresh.connect().await;
        let raw = fresh.raw().await;
        machine[format!("{backend}_version")] = json!(version(&raw).await);
        if items.allows("1") {
            figures.extend(append::item1(&store, &raw, backend, scale).await);
        }
        if items.allows("2") {
            figures.extend(append::item2(&store, backend, scale).await);
        }
        if items.allows("4") || items.allows("5") {
            let admin = postgres.then_some(admin_url.as_str());
            let item4 = items.allows("4");
            figures.extend(board::items_4_and_5(&store, &db, backend, scale, admin, item4).await);
        }
        if items.allows("8") {
            figures.extend(webhooks::item8(&store, &db, backend, scale).await);
        }
        store.close().await;
        db.close().await;
        fresh.drop_database().await;

        if !items.allows("3") {
            continue;
        }
        let fresh = if postgres {
            Fresh::postgres(&admin_url).await
        } else {
            Fresh::sqlite()
        };
        figures.extend(rebuild::item3(&fresh, scale).await);
        fresh.drop_database().await;
    }
    harness::write_part(Path::new(PART), "store", &figures, machine);
    println!("wrote {PART}");
}

/// A comma-separated choice from the environment; unset or empty: everything.
struct Only(Option<Vec<String>>);

impl Only {
    fn from_env(name: &str) -> Self {
        let list = std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Only(list.map(|v| v.split(',').map(|s| s.trim().to_string()).collect()))
    }

    fn allows(&self, what: &str) -> bool {
        self.0
            .as_ref()
            .is_none_or(|list| list.iter().any(|s| s == what))
    }
}

/// The database's own version, for the machine section of the results.
async fn version(raw: &RawPool) -> String {
    match raw {
        RawPool::Postgres(pool) => sqlx::query_scalar("SHOW server_version")
            .fetch_one(pool)
            .await
            .unwrap_or_default(),
        RawPool::Sqlite(pool, _) => sqlx::query_scalar("SELECT sqlite_version()")
            .fetch_one(pool)
            .await
            .unwrap_or_default(),
    }
}
