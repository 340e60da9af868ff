//! Item 8 (issue 19, point 6): webhook deliveries per second for a burst of events, to a
//! local receiver that takes `RECEIVER_LATENCY` to answer, beside the ceiling the setting
//! allows (deliveries in flight ÷ receiver latency), and whether every shipment's deliveries
//! arrived in their order, each once.

use crate::harness::{Figure, Scale, Target};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use freightdesk::db::PortableDb;
use freightdesk::store::EventStore;
use freightdesk::subscriptions::operations::{self, SubscriptionInput};
use freightdesk::subscriptions::{SubscriptionRunner, WebhookConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RECEIVER_LATENCY: Duration = Duration::from_millis(20);

/// What the receiver saw: (stream, version) in the order the requests arrived.
#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<Vec<(String, i64)>>>);

async fn receive(State(arrivals): State<Arrivals>, body: axum::body::Bytes) -> StatusCode {
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let stream = doc["event"]["stream_id"].as_str().unwrap_or_default();
    let version = doc["event"]["version"].as_i64().unwrap_or_default();
    arrivals
        .0
        .lock()
        .expect("arrivals")
        .push((stream.to_string(), version));
    tokio::time::sleep(RECEIVER_LATENCY).await;
    StatusCode::OK
}

async fn start_receiver() -> (String, Arrivals) {
    let arrivals = Arrivals::default();
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(arrivals.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver") });
    (url, arrivals)
}

/// Every stream's versions arrived rising, none twice.
fn in_order_once(arrivals: &[(String, i64)]) -> bool {
    let mut last: HashMap<&str, i64> = HashMap::new();
    arrivals.iter().all(|(stream, version)| {
        let before = last.insert(stream, *version);
        before.is_none_or(|b| b < *version)
    })
}

/// One run: a subscription at the head of the log, a burst of seeded events behind it, then
/// the runner started and timed until the receiver has had every event.
async fn run(
    store: &EventStore,
    db: &PortableDb,
    config: &WebhookConfig,
    shipments: u64,
    run: usize,
) -> (f64, bool, u64) {
    let (url, arrivals) = start_receiver().await;
    let created = operations::create(
        db,
        store,
        config,
        "bench",
        SubscriptionInput {
            name: format!("bench-{run}"),
            target_url: url,
            event_types: Vec::new(),
            place_filter: String::new(),
            max_attempts: String::new(),
        },
    )
    .await
    .expect("subscription");
    let burst = freightdesk::seed::seed(store, shipments, 4)
        .await
        .expect("seed")
        .events;
    let runner = SubscriptionRunner::new(store.clone(), db.clone(), "bench".into(), config.clone())
        .expect("client")
        .start();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(600);
    while (arrivals.0.lock().expect("arrivals").len() as u64) < burst && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let rate = burst as f64 / started.elapsed().as_secs_f64();
    runner.shutdown().await;
    // Later runs' runners must not send to this run's receiver.
    operations::delete(db, "bench", created.id, &created.name)
        .await
        .expect("delete");
    let seen = arrivals.0.lock().expect("arrivals").clone();
    let ok = seen.len() as u64 == burst && in_order_once(&seen);
    (rate, ok, burst)
}

pub async fn item8(
    store: &EventStore,
    db: &PortableDb,
    backend: &'static str,
    scale: Scale,
) -> Vec<Figure> {
    let config = WebhookConfig {
        allow_private_targets: true,
        ..WebhookConfig::default()
    };
    let ceiling = config.concurrency as f64 / RECEIVER_LATENCY.as_secs_f64();
    // About 4.5 events per seeded shipment: 450 make a burst of about 2,000.
    let shipments = if scale.quick { 50 } else { 450 };
    let (mut rates, mut held, mut events) = (Vec::new(), Vec::new(), 0);
    for i in 0..scale.runs {
        let (rate, ok, burst) = run(store, db, &config, shipments, i).await;
        rates.push(rate);
        held.push(if ok { 1.0 } else { 0.0 });
        events = burst;
    }
    let latency_ms = RECEIVER_LATENCY.as_millis();
    let figures = vec![
        Figure::new(
            8,
            format!(
                "webhook deliveries, a burst of {events} events, receiver answering in {latency_ms} ms, {} in flight",
                config.concurrency
            ),
            backend,
            "deliveries/s",
        )
        .runs(rates)
        .against("in flight ÷ receiver latency", ceiling)
        .target(Target::RatioAtLeast(0.8)),
        Figure::new(
            8,
            "webhook deliveries: every one arrived once, each shipment's in order",
            backend,
            "",
        )
        .runs(held)
        .target(Target::Holds),
    ];
    for f in &figures {
        f.print();
    }
    figures
}
