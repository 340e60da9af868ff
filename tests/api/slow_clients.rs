//! Slow and greedy clients: connections that never finish their headers, bodies that never
//! arrive and idle kept-alive connections are closed on time, while everyone else is served;
//! live-update streams are capped per session and in total.

use crate::helpers::{eventually, spawn_app_with, Dialect, TestApp, DISPATCHER};
use freightdesk::config::Config;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SLOW_CONNECTIONS: usize = 200;

fn short_timeouts(config: &mut Config) {
    config.http.header_read_timeout = Duration::from_secs(1);
    config.http.body_read_timeout = Duration::from_secs(1);
    // Longer than the others, so what closes a slow connection here is the timeout under test.
    config.http.idle_timeout = Duration::from_secs(30);
}

fn host_port(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection (or resets it); `None` if it is still open at
/// `deadline`. Returns what the server sent before closing.
async fn closed_by(stream: &mut TcpStream, deadline: Instant) -> Option<String> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&received).into()),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_that_never_finish_their_headers_are_closed_on_time() {
    let app = spawn_app_with(Dialect::Sqlite, short_timeouts).await;
    let address = host_port(&app);
    let opened = Instant::now();
    let mut slow = Vec::with_capacity(SLOW_CONNECTIONS);
    for _ in 0..SLOW_CONNECTIONS {
        let mut stream = TcpStream::connect(&address).await.expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: ")
            .await
            .expect("send a request line and part of a header");
        slow.push(stream);
    }

    // Meanwhile a normal client is served, before, during and after the cut-off.
    let normal = reqwest::Client::new();
    let healthz = format!("{}/healthz", app.address);
    let mut served = 0;
    while opened.elapsed() < Duration::from_millis(2500) {
        let started = Instant::now();
        let response = normal.get(&healthz).send().await.expect("a normal request");
        assert_eq!(response.status(), 200);
        assert!(
            // Generous: other tests share the machine. Unbounded slow clients would stall it.
            started.elapsed() < Duration::from_secs(2),
            "a normal request took {:?}",
            started.elapsed()
        );
        served += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served > 10, "only {served} normal requests were served");

    // The header timeout is 1 s from the connection's start; allow scheduling slack.
    let deadline = opened + Duration::from_secs(4);
    for (i, stream) in slow.iter_mut().enumerate() {
        let answer = closed_by(stream, deadline).await;
        let answer = answer.unwrap_or_else(|| panic!("slow connection {i} still open after 4 s"));
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "connection {i} got {answer:?}"
        );
    }
    assert!(
        opened.elapsed() >= Duration::from_millis(900),
        "closed by the header timeout, not at once"
    );
}

#[tokio::test]
async fn a_body_that_never_arrives_is_answered_408() {
    let app = spawn_app_with(Dialect::Sqlite, short_timeouts).await;
    let mut stream = TcpStream::connect(host_port(&app)).await.unwrap();
    let sent = Instant::now();
    stream
        .write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nname=ada",
        )
        .await
        .unwrap();
    let answer = closed_by(&mut stream, sent + Duration::from_secs(4))
        .await
        .expect("the connection is closed after the body timeout");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within 1 s"), "{answer}");
    assert!(sent.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let app = spawn_app_with(Dialect::Sqlite, |config| {
        config.http.idle_timeout = Duration::from_secs(1);
    })
    .await;
    let mut stream = TcpStream::connect(host_port(&app)).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    while !String::from_utf8_lossy(&received).ends_with("ok\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("an answer")
            .unwrap();
        assert!(n > 0, "closed before answering");
        received.extend_from_slice(&buffer[..n]);
    }
    let answered = Instant::now();
    // The header timeout (10 s by default) would close it too, much later.
    let rest = closed_by(&mut stream, answered + Duration::from_secs(4))
        .await
        .expect("an idle connection is closed after the idle timeout");
    assert_eq!(rest, "");
    assert!(answered.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn live_streams_are_capped_per_session_and_in_total() {
    let app = spawn_app_with(Dialect::Sqlite, |config| {
        config.http.live_streams_per_session = 2;
        config.http.live_streams_total = 3;
    })
    .await;
    let board = format!("{}/live/board", app.address);
    let open = |client: reqwest::Client| {
        let board = board.clone();
        async move { client.get(&board).send().await.expect("a live request") }
    };
    let first = open(app.client.clone()).await;
    let second = open(app.client.clone()).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = open(app.client.clone()).await;
    assert_eq!(third.status(), 429);
    assert!(third
        .text()
        .await
        .unwrap()
        .contains("too many live updates are open for this session (at most 2)"));

    let dispatcher = app.signed_in(DISPATCHER).await;
    let theirs = open(dispatcher.clone()).await;
    assert_eq!(
        theirs.status(),
        200,
        "another session has its own allowance"
    );
    let over_total = open(app.signed_in(DISPATCHER).await).await;
    assert_eq!(over_total.status(), 503);
    assert!(over_total.headers().contains_key("retry-after"));
    assert!(over_total
        .text()
        .await
        .unwrap()
        .contains("the server has too many live updates open (at most 3)"));

    // A stream the client closes gives its place back.
    drop(first);
    eventually("the closed stream's place to come back", async || {
        let status = open(app.client.clone()).await.status();
        if status == 200 {
            Ok(())
        } else {
            Err(status)
        }
    })
    .await;
    drop((second, theirs));
}
