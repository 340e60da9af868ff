//! The command line of the real binary: seed, projections status and rebuild.

use crate::helpers::{fresh_database_url, Dialect};
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

/// Runs the binary with `input` on standard input (passwords are never arguments).
pub fn freightdesk_with_stdin(database_url: &str, args: &[&str], input: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_freightdesk"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run freightdesk");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write the password");
    let out = child.wait_with_output().expect("freightdesk ends");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn users_are_managed_from_the_command_line_without_passwords_in_arguments() {
    let (url, _dir) = fresh_database_url(Dialect::Sqlite).await;
    let (ok, out) = freightdesk_with_stdin(
        &url,
        &[
            "users",
            "add",
            "ana",
            "--role",
            "admin",
            "--display-name",
            "Ana Admin",
        ],
        "a long enough secret\n",
    );
    assert!(ok && out.contains("added ana (admin)"), "{out}");
    let (ok, out) = freightdesk_with_stdin(
        &url,
        &["users", "add", "bo", "--role", "dispatcher"],
        "short\n",
    );
    assert!(
        !ok && out.contains("password"),
        "too short is refused: {out}"
    );
    let (ok, out) = freightdesk_with_stdin(
        &url,
        &["users", "add", "bo", "--role", "dispatcher"],
        "bo's own secret\n",
    );
    assert!(ok, "{out}");
    let (ok, out) = freightdesk(
        &url,
        &["users", "add", "cy", "--role", "admin", "--password", "x"],
    );
    assert!(
        !ok && out.contains("--password"),
        "no password flag exists: {out}"
    );
    let (ok, out) = freightdesk_with_stdin(
        &url,
        &["users", "set-password", "bo"],
        "a brand new secret\n",
    );
    assert!(ok, "{out}");
    let (ok, out) = freightdesk(&url, &["users", "disable", "bo"]);
    assert!(ok, "{out}");
    let (ok, out) = freightdesk(&url, &["users", "list"]);
    assert!(ok, "{out}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("ana").contains("admin") && line("ana").contains("active"),
        "{out}"
    );
    assert!(line("bo ").contains("disabled"), "{out}");
    let (ok, out) = freightdesk(&url, &["users", "enable", "bo"]);
    assert!(ok && out.contains("bo is enabled"), "{out}");
    let (ok, out) = freightdesk(&url, &["users", "list"]);
    assert!(ok, "{out}");
    let bo = out
        .lines()
        .find(|l| l.starts_with("bo "))
        .unwrap_or_default();
    assert!(bo.contains("active"), "{out}");
    let (ok, out) = freightdesk(&url, &["users", "disable", "ana"]);
    assert!(!ok, "the last admin cannot be disabled: {out}");
}

#[tokio::test]
async fn commands_that_read_never_create_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo").join("missing.db");
    let url = format!("sqlite:{}", path.display());
    let (ok, out) = freightdesk(&url, &["projections", "status"]);
    assert!(!ok && out.contains("no database at"), "{out}");
    assert!(!path.exists() && !path.parent().unwrap().exists());
    let (ok, out) = freightdesk(&url, &["projections", "rebuild"]);
    assert!(
        !ok && out.contains("<VERSION>") && !out.contains("ENVIRONMENT"),
        "usage, not the whole help: {out}"
    );
}

#[tokio::test]
async fn seed_status_and_rebuild_from_the_command_line() {
    let (url, _dir) = fresh_database_url(Dialect::Sqlite).await;
    let (ok, out) = freightdesk(&url, &["seed", "--shipments", "25"]);
    assert!(ok, "{out}");
    assert!(out.contains("seeded 25 shipments"), "{out}");

    let (ok, out) = freightdesk(&url, &["projections", "rebuild", "shipment_board@1"]);
    assert!(!ok, "nothing registered yet: {out}");

    let freightdesk::database::Database { store, db } = crate::helpers::open(&url).await;
    let daemon = freightdesk::projections::Daemon::new(
        store.clone(),
        db.clone(),
        "cli-test".into(),
        freightdesk::projections::Definition::ALL.to_vec(),
    )
    .start()
    .await
    .unwrap();
    crate::helpers::wait_caught_up(&store, &db, &freightdesk::projections::Definition::ALL).await;

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
    crate::helpers::wait_caught_up(&store, &db, &freightdesk::projections::Definition::ALL).await;
    crate::helpers::assert_matches_fold(&store, &db).await;
    daemon.shutdown().await;

    // No node runs it now: the requested rebuild waits at its start, and status shows it running.
    let (ok, out) = freightdesk(&url, &["projections", "rebuild", "shipment_board@2"]);
    assert!(ok, "{out}");
    let (ok, out) = freightdesk(&url, &["projections", "status"]);
    assert!(ok, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("shipment_board@2"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("0% (0/"),
        "a running rebuild's progress: {out}"
    );

    let (ok, out) = freightdesk(&url, &["projections", "rebuild", "nope@1"]);
    assert!(!ok && out.contains("unknown projection version"), "{out}");
    let (ok, out) = freightdesk(&url, &["serve", "--help"]);
    assert!(ok && out.contains("FREIGHTDESK_PROJECTIONS"), "{out}");
}

#[tokio::test]
async fn serve_logs_where_it_listens_and_stops_cleanly_on_sigterm() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let url = crate::helpers::fresh_postgres_url().await;
    // A password in the URL must never reach the log.
    let with_password = url.replacen("postgres@", "postgres:hunter2@", 1);
    let (ok, out) = freightdesk_with_stdin(
        &url,
        &["users", "add", "ops", "--role", "dispatcher"],
        "night shift only\n",
    );
    assert!(ok, "{out}");
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
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = client
        .post(format!("{address}/api/auth/login"))
        .header("Origin", &address)
        .header("Accept", "application/json")
        .form(&[("name", "ops"), ("password", "night shift only")])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success(), "{}", login.status());
    let feed = client
        .get(format!("{address}/live/shipments/{}", uuid::Uuid::new_v4()))
        .send()
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

#[tokio::test]
async fn serve_on_a_taken_port_names_who_holds_it_and_how_to_choose_another() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let (database_url, _dir) = fresh_database_url(Dialect::Sqlite).await;
    let (ok, text) = freightdesk(&database_url, &["serve", "--addr", &addr.to_string()]);
    assert!(!ok, "{text}");
    // This test process holds it: named by its pid, with a way out.
    assert!(
        text.contains(&format!("cannot listen on {addr}"))
            && text.contains(&format!("(pid {}) is listening there", std::process::id())),
        "{text}"
    );
    assert!(text.contains("FREIGHTDESK_ADDR=127.0.0.1:"), "{text}");
    // Said before anything else started: no set-up link, no database made.
    assert!(!text.contains("First run"), "{text}");
    drop(taken);
}
