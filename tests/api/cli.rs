//! The command line of the real binary: seed, projections status and rebuild.

use crate::helpers::{fresh_database_url, Backend};
use std::process::Command;

fn freightdesk(database_url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_freightdesk"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run freightdesk");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn seed_status_and_rebuild_from_the_command_line() {
    let (url, _dir) = fresh_database_url(Backend::Sqlite).await;
    let (ok, out) = freightdesk(&url, &["seed", "--shipments", "25"]);
    assert!(ok, "{out}");
    assert!(out.contains("seeded 25 shipments"), "{out}");

    let (ok, out) = freightdesk(&url, &["projections", "rebuild", "shipment_board@1"]);
    assert!(!ok, "nothing registered yet: {out}");

    let store = freightdesk::store::EventStore::connect(&crate::helpers::parse_url(&url))
        .await
        .unwrap();
    let db = freightdesk::db::PortableDb::connect(&crate::helpers::parse_url(&url))
        .await
        .unwrap();
    let daemon = freightdesk::projections::Daemon::new(
        store.clone(),
        db.clone(),
        "cli-test".into(),
        freightdesk::projections::Definition::ALL.to_vec(),
    )
    .start()
    .await
    .unwrap();
    crate::projections::wait_caught_up(&store, &db, &freightdesk::projections::Definition::ALL)
        .await;

    let (ok, out) = freightdesk(&url, &["projections", "status"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("shipment_board@1") && out.contains("live"),
        "{out}"
    );
    assert!(out.contains("daily_shipments@1"), "{out}");

    let (ok, out) = freightdesk(&url, &["projections", "rebuild", "shipment_board@2"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("rebuild of shipment_board@2 requested"),
        "{out}"
    );
    crate::projections::wait_caught_up(&store, &db, &freightdesk::projections::Definition::ALL)
        .await;
    crate::projections::assert_matches_fold(&store, &db).await;
    daemon.shutdown().await;

    let (ok, out) = freightdesk(&url, &["projections", "rebuild", "nope@1"]);
    assert!(!ok && out.contains("unknown projection version"), "{out}");
    let (ok, out) = freightdesk(&url, &["--help"]);
    assert!(ok && out.contains("FREIGHTDESK_PROJECTIONS"), "{out}");
}

#[tokio::test]
async fn serve_logs_where_it_listens_and_stops_cleanly_on_sigterm() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let url = crate::helpers::fresh_postgres_url().await;
    // A password in the URL must never reach the log.
    let with_password = url.replacen("postgres@", "postgres:hunter2@", 1);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_freightdesk"))
        .arg("serve")
        .env("DATABASE_URL", &with_password)
        .env("FREIGHTDESK_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "freightdesk")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut log = String::new();
    let address = loop {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("the server logs its address")
            .unwrap()
            .expect("the server is still running");
        log.push_str(&line);
        log.push('\n');
        if let Some(at) = line.find("listening on ") {
            break line[at + "listening on ".len()..].trim().to_string();
        }
    };
    assert!(
        log.contains("backend=\"postgres\"") || log.contains("backend=postgres"),
        "{log}"
    );
    assert!(log.contains("postgres:***@"), "{log}");
    assert!(!log.contains("hunter2"), "{log}");

    // A live feed is open while the server is asked to stop: it must not hold the shutdown up.
    let feed = reqwest::get(format!("{address}/live/shipments/{}", uuid::Uuid::new_v4()))
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .expect("stopped within 10 seconds")
        .unwrap();
    assert!(status.success(), "{status:?}");
    while let Ok(Some(line)) = lines.next_line().await {
        log.push_str(&line);
        log.push('\n');
    }
    assert!(log.contains("shut down cleanly"), "{log}");
    drop(feed);
}
