//! Faults: the database goes away under traffic and comes back; the server is stopped under
//! load. Nothing acknowledged is lost, nothing is half-applied, and the app recovers alone.

use crate::helpers::{assert_matches_fold, eventually, wait_caught_up};
use crate::helpers::{fresh_postgres_url, spawn_app_on, ADMIN};
use freightdesk::projections::Definition;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use uuid::Uuid;

/// A TCP proxy in front of PostgreSQL that the test can cut (every connection dropped, new
/// ones closed at once) and restore.
struct Proxy {
    addr: SocketAddr,
    cut: watch::Sender<bool>,
}

async fn proxy_to(target: SocketAddr) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (cut, cut_rx) = watch::channel(false);
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            if *cut_rx.borrow() {
                drop(client);
                continue;
            }
            let mut cut_rx = cut_rx.clone();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(target).await else {
                    return;
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    _ = cut_rx.wait_for(|cut| *cut) => {}
                }
            });
        }
    });
    Proxy { addr, cut }
}

/// What the traffic saw: shipment ids the server acknowledged, and every status it answered.
#[derive(Default)]
struct Traffic {
    acknowledged: Vec<Uuid>,
    statuses: Vec<u16>,
}

/// One command of the load: it may fail (the status), or find no server (`None`).
async fn try_schedule(app_address: &str, client: &reqwest::Client, id: Uuid) -> Option<u16> {
    let response = client
        .post(format!("{app_address}/api/shipments/schedule"))
        .header("Accept", "application/json")
        .form(&[
            ("origin", "Rotterdam"),
            ("destination", "Gdansk"),
            ("pickup_at", "2026-12-01T08:00"),
            ("shipment_id", &id.to_string()),
        ])
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .ok()?;
    Some(response.status().as_u16())
}

/// How many commands the database's absence answered.
fn refusals(traffic: &Mutex<Traffic>) -> usize {
    let traffic = traffic.lock().unwrap();
    traffic.statuses.iter().filter(|s| **s == 503).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_database_answers_503_loses_nothing_and_recovers_without_a_restart() {
    let direct = fresh_postgres_url().await;
    let proxy = proxy_to("127.0.0.1:5432".parse().unwrap()).await;
    let proxied = direct.replacen("127.0.0.1:5432", &proxy.addr.to_string(), 1);
    assert_ne!(
        proxied, direct,
        "the test database URL names 127.0.0.1:5432"
    );
    let app = spawn_app_on(proxied, None).await;

    let traffic = Arc::new(Mutex::new(Traffic::default()));
    let (stop, stop_rx) = watch::channel(false);
    let writer = {
        let (address, client, traffic) = (app.address.clone(), app.client.clone(), traffic.clone());
        tokio::spawn(async move {
            while !*stop_rx.borrow() {
                let id = Uuid::new_v4();
                if let Some(status) = try_schedule(&address, &client, id).await {
                    let mut t = traffic.lock().unwrap();
                    t.statuses.push(status);
                    if status == 200 {
                        t.acknowledged.push(id);
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    eventually(
        "commands to succeed while the database is there",
        async || match traffic.lock().unwrap().acknowledged.len() {
            0 => Err("none acknowledged"),
            _ => Ok(()),
        },
    )
    .await;
    let before_cut = traffic.lock().unwrap().acknowledged.len();

    proxy.cut.send(true).unwrap();
    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 503);
    assert!(health
        .text()
        .await
        .unwrap()
        .contains("database unavailable"));
    let command = try_schedule(&app.address, &app.client, Uuid::new_v4()).await;
    assert_eq!(
        command,
        Some(503),
        "a command answers 503 while the database is away"
    );
    // Once the server knows the database is away, requests are answered at once (the
    // fail-fast answer carries Retry-After); a page that only reads says so, without claiming
    // that something was not saved; a command says nothing was saved.
    let page = eventually("the server to know the database is away", async || {
        let page = app
            .client
            .get(format!("{}/", app.address))
            .send()
            .await
            .unwrap();
        match page.headers().get("retry-after") {
            Some(_) => Ok(page),
            None => Err(page.status()),
        }
    })
    .await;
    assert_eq!(page.status(), 503);
    let text = page.text().await.unwrap();
    assert!(text.contains("database is not answering"), "{text}");
    assert!(!text.contains("nothing was saved"), "{text}");
    let refused = app
        .client
        .post(format!("{}/api/shipments/schedule", app.address))
        .header("Accept", "application/json")
        .form(&[("origin", "Rotterdam"), ("destination", "Gdansk")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    // The server function's typed error, which the page shows as "nothing was saved".
    let body = refused.text().await.unwrap();
    assert!(body.contains(r#""saving":true"#), "{body}");
    // The outage lasts until the load has met it a few times, not for a fixed time.
    let refused_before = refusals(&traffic);
    eventually("the load to meet the outage", async || {
        match refusals(&traffic) - refused_before {
            met if met >= 3 => Ok(()),
            met => Err(met),
        }
    })
    .await;

    proxy.cut.send(false).unwrap();
    eventually("the app to recover", async || {
        let health = app
            .client
            .get(format!("{}/healthz", app.address))
            .send()
            .await;
        match health {
            Ok(h) if h.status() == 200 => Ok(()),
            other => Err(other.map(|h| h.status())),
        }
    })
    .await;
    eventually("commands to succeed again", async || {
        match traffic.lock().unwrap().acknowledged.len() {
            n if n > before_cut + 3 => Ok(()),
            n => Err(n),
        }
    })
    .await;
    stop.send(true).unwrap();
    writer.await.unwrap();

    let traffic = std::mem::take(&mut *traffic.lock().unwrap());
    assert!(
        traffic.statuses.iter().all(|s| *s == 200 || *s == 503),
        "only successes and 503s: {:?}",
        traffic.statuses
    );
    // Every acknowledged command is stored exactly once, and nothing else is half there.
    let events = crate::helpers::read_all_until(&app.store, traffic.acknowledged.len()).await;
    let stored: HashSet<Uuid> = events.iter().map(|e| e.stream_id).collect();
    let acknowledged: HashSet<Uuid> = traffic.acknowledged.iter().copied().collect();
    assert!(
        acknowledged.is_subset(&stored),
        "an acknowledged command was lost"
    );
    assert_eq!(
        stored.len(),
        events.len(),
        "one event per shipment, none twice"
    );
    for id in &stored {
        assert_eq!(app.store.stream_version(*id).await.unwrap(), Some(1));
    }
    // The daemon resumed from its checkpoints on its own.
    wait_caught_up(&app.store, &app.projections, &Definition::ALL).await;
    assert_matches_fold(&app.store, &app.projections).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_keeps_every_acknowledged_command_and_exits_in_time() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let url = fresh_postgres_url().await;
    let (ok, out) = crate::cli::freightdesk_with_stdin(
        &url,
        &["users", "add", ADMIN.0, "--role", "admin"],
        &format!("{}\n", ADMIN.2),
    );
    assert!(ok, "{out}");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_freightdesk"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("FREIGHTDESK_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "freightdesk")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next_line().await.unwrap().expect("the server runs");
        if let Some(at) = line.find("listening on ") {
            break line[at + "listening on ".len()..].trim().to_string();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(
            [(reqwest::header::ORIGIN, address.parse().unwrap())]
                .into_iter()
                .collect(),
        )
        .build()
        .unwrap();
    let login = client
        .post(format!("{address}/api/auth/login"))
        .form(&[("name", ADMIN.0), ("password", ADMIN.2)])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success() || login.status().is_redirection());

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for _ in 0..16 {
        let (address, client, acknowledged) =
            (address.clone(), client.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            loop {
                let id = Uuid::new_v4();
                match try_schedule(&address, &client, id).await {
                    Some(200) => acknowledged.lock().unwrap().push(id),
                    Some(status) => assert!(status == 503, "answered {status}"),
                    // Refused or reset: the server has stopped.
                    None => return,
                }
            }
        }));
    }
    // Stop once the load is well under way (the check below wants more than 16 commands).
    eventually("the load to be under way", async || {
        match acknowledged.lock().unwrap().len() {
            n if n > 32 => Ok(()),
            n => Err(n),
        }
    })
    .await;
    let pid = child.id().unwrap().to_string();
    let signalled = Instant::now();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits within 10 seconds")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(signalled.elapsed() < Duration::from_secs(10));
    for writer in writers {
        writer.await.unwrap();
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 16,
        "the load ran: {}",
        acknowledged.len()
    );
    let freightdesk::database::Database { store, db } = crate::helpers::open(&url).await;
    for id in &acknowledged {
        assert_eq!(
            store.stream_version(*id).await.unwrap(),
            Some(1),
            "{id} lost"
        );
    }
    let (_, total) = store.head().await.unwrap();
    let events = crate::helpers::read_all_until(&store, total as usize).await;
    let streams: HashSet<Uuid> = events.iter().map(|e| e.stream_id).collect();
    assert_eq!(streams.len(), events.len(), "no command applied twice");
    // Checkpoints are consistent: a new node resumes from them and ends equal to a fold.
    let daemon = freightdesk::projections::Daemon::new(
        store.clone(),
        db.clone(),
        "after-shutdown".into(),
        Definition::ALL.to_vec(),
    )
    .start()
    .await
    .unwrap();
    wait_caught_up(&store, &db, &Definition::ALL).await;
    assert_matches_fold(&store, &db).await;
    daemon.shutdown().await;
}
