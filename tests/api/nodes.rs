//! Several real `freightdesk serve` processes on one PostgreSQL database: each projection version
//! runs on exactly one node, a killed node's versions are taken over, and a rebuild interrupted by
//! SIGKILL finishes on another node with every event applied exactly once.

use crate::helpers::fresh_postgres_url;
use crate::helpers::{all_events, assert_matches_fold, eventually, wait_caught_up};
use freightdesk::db::PortableDb;
use freightdesk::projections::Definition;
use freightdesk::projections::{nodes, operator, versions};
use freightdesk::store::EventStore;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

fn spawn_node(database_url: &str, name: &str, batch_size: i64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_freightdesk"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("FREIGHTDESK_ADDR", "127.0.0.1:0")
        .env("FREIGHTDESK_NODE", name)
        .env("FREIGHTDESK_PROJECTIONS", "")
        .env("FREIGHTDESK_BATCH_SIZE", batch_size.to_string())
        .env("LEPTOS_OUTPUT_NAME", "freightdesk")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start a freightdesk node")
}

async fn owners(db: &PortableDb) -> BTreeMap<String, Option<String>> {
    versions::load_all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.def.key(), v.owner_node))
        .collect()
}

async fn connect(url: &str) -> (EventStore, PortableDb) {
    let database = crate::helpers::open(url).await;
    (database.store, database.db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_version_runs_on_one_node_and_a_killed_nodes_work_is_taken_over() {
    let url = fresh_postgres_url().await;
    let (store, db) = connect(&url).await;
    let mut a = spawn_node(&url, "node-a", 500);
    let mut b = spawn_node(&url, "node-b", 500);
    eventually("every version to have an owner", async || {
        let o = owners(&db).await;
        if o.len() == Definition::ALL.len() && o.values().all(Option::is_some) {
            Ok(())
        } else {
            Err(o)
        }
    })
    .await;
    let held: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(
        &mut <sqlx::PgConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        held,
        Definition::ALL.len() as i64,
        "one lock per version, held once"
    );
    let nodes = nodes::list(&db).await.unwrap();
    assert_eq!(nodes.len(), 2);

    let before = owners(&db).await;
    let victim = before["shipment_board@1"].clone().unwrap();
    let survivor = if victim == "node-a" {
        "node-b"
    } else {
        "node-a"
    };
    let victim_process = if victim == "node-a" { &mut a } else { &mut b };
    victim_process.start_kill().unwrap(); // SIGKILL: no chance to clean up
    victim_process.wait().await.unwrap();
    let killed_at = Instant::now();
    eventually("the survivor to own every version", async || {
        let o = owners(&db).await;
        if o.values().all(|o| o.as_deref() == Some(survivor)) {
            Ok(())
        } else {
            Err(o)
        }
    })
    .await;
    let took = killed_at.elapsed();
    println!("take-over took {took:?}");
    assert!(took < Duration::from_secs(5), "take-over took {took:?}");

    // The survivor keeps the projections current.
    freightdesk::seed::seed(&store, 20, 4).await.unwrap();
    wait_caught_up(&store, &db, &Definition::ALL).await;
    assert_matches_fold(&store, &db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rebuild_killed_midway_finishes_on_another_node_exactly_once() {
    let url = fresh_postgres_url().await;
    let (store, db) = connect(&url).await;
    freightdesk::seed::seed(&store, 1500, 8).await.unwrap();
    let total = all_events(&store).await.len() as i64;

    // Build once, stop, then ask for both rebuilds while no node runs, so that both start
    // together when the next node comes up (with small batches, to be interrupted midway).
    let mut first = spawn_node(&url, "node-first", 500);
    wait_caught_up(&store, &db, &Definition::ALL).await;
    first.start_kill().unwrap();
    first.wait().await.unwrap();
    let rebuilt = [Definition::DailyShipmentsV1, Definition::ShipmentBoardV2];
    for def in rebuilt {
        operator::request_rebuild(&db, def, "test", total)
            .await
            .unwrap();
    }
    let mut a = spawn_node(&url, "node-a", 25);
    eventually("both rebuilds to be under way", async || {
        let mut done = Vec::new();
        for def in rebuilt {
            let row = versions::load(&db, def).await.unwrap();
            done.push(row.rebuild.map(|r| r.done));
        }
        if done.iter().all(|d| d.is_some_and(|d| d >= total / 20)) {
            Ok(())
        } else {
            Err(done)
        }
    })
    .await;
    a.start_kill().unwrap();
    a.wait().await.unwrap();
    let mut interrupted = Vec::new();
    for def in rebuilt {
        let row = versions::load(&db, def).await.unwrap();
        let rebuild = row.rebuild.clone().expect("still rebuilding when killed");
        assert!(
            rebuild.done > 0 && rebuild.done < total,
            "{} killed midway: {} of {total}",
            def.key(),
            rebuild.done
        );
        interrupted.push(row);
    }

    let _b = spawn_node(&url, "node-b", 500);
    wait_caught_up(&store, &db, &Definition::ALL).await;
    for (def, before) in rebuilt.into_iter().zip(interrupted) {
        let finished = versions::load(&db, def).await.unwrap();
        assert_eq!(finished.owner_node.as_deref(), Some("node-b"));
        assert_eq!(
            finished.events_applied,
            total,
            "{}: every event applied once",
            def.key()
        );
        assert_ne!(finished.physical_table, before.physical_table);
    }
    // Equal to a from-scratch fold: no count too high (applied twice) or too low (missed).
    assert_matches_fold(&store, &db).await;
    // And every shipment can be searched for, those the rebuild applied after the restart
    // too (node-b's start must not give the half-built table its search table early: the
    // batches after it would not add their rows).
    let board_v2 = versions::load(&db, Definition::ShipmentBoardV2)
        .await
        .unwrap();
    let pg = sqlx::PgPool::connect(&url).await.unwrap();
    let count = |table: String| {
        let pg = pg.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&pg)
                .await
                .unwrap()
        }
    };
    let table = board_v2.physical_table.to_string();
    assert_eq!(count(table.clone()).await, 1500);
    assert_eq!(count(format!("{table}_search")).await, 1500, "search rows");
}
