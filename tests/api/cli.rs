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

    let store = freightdesk::store::EventStore::connect(&url).await.unwrap();
    let db = freightdesk::projections::db::ProjectionDb::connect(&url)
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
