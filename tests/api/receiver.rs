//! A real webhook receiver for the tests: an axum app on a free loopback port that records
//! every request and answers as the test tells it (succeed, fail with a status, hang), per
//! shipment if need be.

use crate::helpers::eventually;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Ok,
    Status(u16),
    /// Never answers within any sane timeout.
    Hang,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub doc: serde_json::Value,
    /// What the receiver answered (`None`: it hung).
    pub answered: Option<u16>,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    pub fn stream(&self) -> String {
        self.doc["event"]["stream_id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn version(&self) -> i64 {
        self.doc["event"]["version"].as_i64().unwrap_or_default()
    }

    pub fn event_id(&self) -> String {
        self.doc["event"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn succeeded(&self) -> bool {
        self.answered.is_some_and(|c| (200..300).contains(&c))
    }
}

#[derive(Default)]
struct Rules {
    default: Option<Answer>,
    /// Answers for the next requests about one stream on one path, used up one per request.
    per_stream: HashMap<(String, String), Vec<Answer>>,
}

#[derive(Clone, Default)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    rules: Arc<Mutex<Rules>>,
}

pub struct Receiver {
    pub base: String,
    shared: Shared,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let shared = Shared::default();
        let app = Router::new()
            .route("/{*path}", post(receive))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { base, shared }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// How every request is answered unless a per-stream rule says otherwise.
    pub fn answer(&self, answer: Answer) {
        self.shared.rules.lock().unwrap().default = Some(answer);
    }

    /// The next requests on `path` about this stream get these answers, in order.
    pub fn answer_stream(&self, path: &str, stream: &str, answers: &[Answer]) {
        self.shared
            .rules
            .lock()
            .unwrap()
            .per_stream
            .insert((path.to_string(), stream.to_string()), answers.to_vec());
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    pub fn received_on(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Waits until `done` holds for what arrived on `path`.
    pub async fn wait_for<F>(&self, path: &str, what: &str, done: F) -> Vec<Received>
    where
        F: Fn(&[Received]) -> bool,
    {
        eventually(what, async || {
            let got = self.received_on(path);
            if done(&got) {
                return Ok(got);
            }
            let seen: Vec<_> = got
                .iter()
                .map(|r| (r.doc["event"]["type"].clone(), r.version(), r.answered))
                .collect();
            Err(seen)
        })
        .await
    }
}

async fn receive(
    State(shared): State<Shared>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let stream = doc["event"]["stream_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = uri.path().trim_start_matches('/').to_string();
    let answer = {
        let mut rules = shared.rules.lock().unwrap();
        let scripted = rules
            .per_stream
            .get_mut(&(path.clone(), stream))
            .filter(|a| !a.is_empty())
            .map(|a| a.remove(0));
        scripted.or(rules.default).unwrap_or(Answer::Ok)
    };
    let answered = match answer {
        Answer::Ok => Some(200),
        Answer::Status(code) => Some(code),
        Answer::Hang => None,
    };
    shared.received.lock().unwrap().push(Received {
        path,
        headers,
        body,
        doc,
        answered,
        at: Instant::now(),
    });
    match answer {
        Answer::Ok => (StatusCode::OK, "thanks"),
        Answer::Status(code) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "no thanks",
        ),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            (StatusCode::OK, "too late")
        }
    }
}
