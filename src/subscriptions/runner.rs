//! Runs every subscription on exactly one node: the same lease as projection versions (an
//! advisory lock on PostgreSQL, the file on SQLite). While it holds a subscription's lease a
//! node fills the outbox from the log (deliveries and checkpoint in one transaction, the
//! checkpoint moved only from where it was read) and sends the pending deliveries. A node that
//! dies mid-send leaves its in-flight deliveries pending, and the next owner sends them again:
//! at least once, with the same delivery id.

use super::deliveries::{self, AttemptRecord, DueDelivery, NewDelivery};
use super::repo::{self, SubscriptionRow};
use super::signing::{self, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use super::target::{self, WebhookConfig};
use super::{
    judge, payload, AttemptOutcome, DeliveryStatus, RetryPolicy, SubscriptionState, Verdict,
};
use crate::db::PortableDb;
use crate::domain::{evolve, Shipment, ShipmentId};
use crate::lease::{self, ExclusiveWork, Progress};
use crate::store::shipments::load_history;
use crate::store::{EventStore, RecordedEvent, StoreError};
use crate::time::Clock;
use futures::StreamExt;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// Events read from the log per outbox transaction.
const BATCH_SIZE: i64 = 200;
/// How long one sending round starts new deliveries (see `send_due`).
const SENDING_ROUND: Duration = Duration::from_secs(1);
/// The part of a receiver's answer kept for the console.
const RESPONSE_EXCERPT_BYTES: usize = 512;

#[derive(Clone)]
pub struct SubscriptionRunner {
    store: EventStore,
    db: PortableDb,
    node: String,
    config: WebhookConfig,
    client: reqwest::Client,
    /// "Now" for due retries and signatures, and how often to poll and discover.
    clock: Clock,
}

pub struct SubscriptionRunnerHandle {
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SubscriptionRunnerHandle {
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// One subscription as the lease loop runs it.
struct SubscriptionTask {
    runner: SubscriptionRunner,
    id: i64,
}

impl ExclusiveWork for SubscriptionTask {
    type Error = StepError;

    fn key(&self) -> i64 {
        lease::lock_key_for(&format!("subscription:{}", self.id))
    }

    fn name(&self) -> String {
        format!("subscription {}", self.id)
    }

    async fn set_owner(&self, owner: Option<&str>) {
        self.runner.set_owner(self.id, owner).await
    }

    async fn step(&mut self) -> Result<Progress, StepError> {
        self.runner.step(self.id).await
    }

    fn retry_after(&self) -> Duration {
        self.runner.clock.intervals.webhook_poll
    }
}

impl SubscriptionRunner {
    pub fn new(
        store: EventStore,
        db: PortableDb,
        node: String,
        config: WebhookConfig,
    ) -> Result<Self, reqwest::Error> {
        let client = target::client(&config)?;
        Ok(Self {
            store,
            db,
            node,
            config,
            client,
            clock: Clock::system(),
        })
    }

    /// Reads "now" and the poll and discover intervals from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn start(self) -> SubscriptionRunnerHandle {
        let (shutdown, _) = watch::channel(false);
        let task = tokio::spawn(self.supervise(shutdown.subscribe()));
        SubscriptionRunnerHandle { shutdown, task }
    }

    /// Starts a task per subscription as they appear; a task ends when its subscription is
    /// deleted.
    async fn supervise(self, mut shutdown: watch::Receiver<bool>) {
        let mut tasks: HashMap<i64, JoinHandle<()>> = HashMap::new();
        loop {
            tasks.retain(|_, task| !task.is_finished());
            match repo::ids(&self.db).await {
                Ok(ids) => {
                    for id in ids {
                        tasks.entry(id).or_insert_with(|| {
                            let task = SubscriptionTask {
                                runner: self.clone(),
                                id,
                            };
                            tokio::spawn(lease::run_exclusively(
                                self.store.clone(),
                                self.node.clone(),
                                task,
                                shutdown.clone(),
                            ))
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot list subscriptions"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.clock.intervals.webhook_discover) => {}
                _ = shutdown.changed() => break,
            }
        }
        for (_, task) in tasks {
            let _ = task.await;
        }
    }

    async fn set_owner(&self, id: i64, owner: Option<&str>) {
        if let Err(e) = repo::set_owner(&self.db, id, owner).await {
            tracing::warn!(error = %e, "cannot record the owner of subscription {id}");
        }
    }

    /// One round: fill the outbox from the log, send what is due; when nothing was, wait
    /// until the next retry falls due (at most the poll interval).
    async fn step(&self, id: i64) -> Result<Progress, StepError> {
        let Some(row) = repo::find(&self.db, id).await? else {
            return Ok(Progress::Gone);
        };
        if row.state == SubscriptionState::Paused {
            return Ok(Progress::Idle(self.clock.intervals.webhook_poll));
        }
        // The outbox is filled while the due deliveries go out: the sender looks for newly due
        // ones whenever a delivery finishes, so it keeps sending through a long backlog.
        let (filled, sent) = tokio::join!(self.fill_outbox(&row), self.send_due(&row));
        let (filled, sent) = (filled?, sent?);
        if filled || sent {
            return Ok(Progress::Worked);
        }
        Ok(Progress::Idle(self.until_next_due(id).await))
    }

    /// How long to wait for work: until the next retry falls due, at most the poll interval.
    async fn until_next_due(&self, id: i64) -> Duration {
        let poll = self.clock.intervals.webhook_poll;
        match deliveries::next_due(&self.db, id).await {
            Ok(Some(at)) => (at - self.clock.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(poll),
            _ => poll,
        }
    }

    /// Reads the next batch after the checkpoint and writes a delivery for each matching event,
    /// moving the checkpoint in the same transaction. True when the checkpoint moved.
    async fn fill_outbox(&self, row: &SubscriptionRow) -> Result<bool, StepError> {
        let batch = self.store.read_all(&row.checkpoint, BATCH_SIZE).await?;
        if batch.events.is_empty() {
            return Ok(false);
        }
        let wanted: Vec<&RecordedEvent> = batch
            .events
            .iter()
            .filter(|e| row.selection.wants_type(&e.event_type))
            .collect();
        let states = self.states_after(&wanted).await?;
        let mut tx = self.db.begin().await?;
        let mut written = 0;
        for event in wanted {
            let state = states
                .get(&(event.stream_id, event.version))
                .and_then(Option::as_ref);
            if !row.selection.matches(&event.event_type, state) {
                continue;
            }
            let delivery_id = Uuid::new_v4();
            let delivery = NewDelivery {
                delivery_id,
                subscription_id: row.id,
                event_id: event.id.to_string(),
                event_seq: event.position.seq,
                stream_id: event.stream_id.to_string(),
                event_type: event.event_type.clone(),
                body: payload::event_document(delivery_id, &row.name, event, state),
            };
            deliveries::insert(&mut tx, &delivery).await?;
            written += 1;
        }
        if repo::advance(&mut tx, row.id, &row.checkpoint, &batch.next).await? {
            tx.commit().await?;
            tracing::debug!(subscription = %row.name, written, "outbox filled");
        } else {
            // Rewound, or another node moved it: this batch is not ours to write.
            tracing::info!(subscription = %row.name, "checkpoint moved under us; batch dropped");
        }
        Ok(true)
    }

    /// Each shipment's state right after each of these events, folded from its stream.
    async fn states_after(
        &self,
        events: &[&RecordedEvent],
    ) -> Result<HashMap<(Uuid, i64), Option<Shipment>>, StoreError> {
        let needed: HashSet<(Uuid, i64)> =
            events.iter().map(|e| (e.stream_id, e.version)).collect();
        let streams: HashSet<Uuid> = needed.iter().map(|(s, _)| *s).collect();
        let mut states = HashMap::new();
        for stream in streams {
            let mut state = None;
            for record in load_history(&self.store, ShipmentId::from_uuid(stream)).await? {
                state = evolve(state, &record.event);
                let key = (stream, record.recorded.version);
                if needed.contains(&key) {
                    states.insert(key, state.clone());
                }
            }
        }
        Ok(states)
    }

    /// Sends the deliveries that are due with `concurrency` of them in flight for as long as
    /// any are due: as one finishes the next starts, instead of each round waiting for its
    /// slowest. A shipment's next delivery is due only once the one before it has finished
    /// (`deliveries::due` hands out the oldest pending delivery of each stream, and one in
    /// flight is still pending), so at most one per shipment is in flight and their order
    /// holds. Stops starting new ones after `SENDING_ROUND`, or at the first failure to record
    /// an outcome, and returns once those in flight have finished, so the lease and a shutdown
    /// are looked at in between. True if any was sent.
    async fn send_due(&self, row: &SubscriptionRow) -> Result<bool, StepError> {
        let concurrency = self.config.concurrency.max(1);
        let policy = RetryPolicy {
            base: self.config.retry_base,
            cap: self.config.retry_cap,
            max_attempts: u32::try_from(row.max_attempts).unwrap_or(1).max(1),
        };
        let mut in_flight = futures::stream::FuturesUnordered::new();
        let mut in_flight_ids: HashSet<i64> = HashSet::new();
        let mut queued: VecDeque<DueDelivery> = VecDeque::new();
        // Whether the last look found nothing new: look again only after something finished.
        let mut looked_in_vain = false;
        let mut started = 0;
        let mut failure = None;
        let until = tokio::time::Instant::now() + SENDING_ROUND;
        loop {
            while in_flight.len() < concurrency
                && failure.is_none()
                && tokio::time::Instant::now() < until
            {
                if queued.is_empty() && !looked_in_vain {
                    let limit = (concurrency * 4 + in_flight.len()) as i64;
                    match deliveries::due(&self.db, row.id, self.clock.now(), limit).await {
                        Ok(due) => queued
                            .extend(due.into_iter().filter(|d| !in_flight_ids.contains(&d.id))),
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    }
                    looked_in_vain = queued.is_empty();
                }
                let Some(delivery) = queued.pop_front() else {
                    break;
                };
                in_flight_ids.insert(delivery.id);
                started += 1;
                in_flight.push(async move {
                    let id = delivery.id;
                    (id, self.deliver(row, delivery, policy).await)
                });
            }
            let Some((id, result)) = in_flight.next().await else {
                break;
            };
            in_flight_ids.remove(&id);
            looked_in_vain = false;
            if let Err(e) = result {
                failure.get_or_insert(e);
            }
        }
        if let Some(e) = failure {
            return Err(e.into());
        }
        Ok(started > 0)
    }

    /// One attempt, and its outcome recorded on the delivery.
    async fn deliver(
        &self,
        row: &SubscriptionRow,
        delivery: DueDelivery,
        policy: RetryPolicy,
    ) -> Result<(), sqlx::Error> {
        let attempt = self.attempt(row, &delivery).await;
        let attempts = delivery.attempts + 1;
        let verdict = judge(
            attempt.outcome,
            u32::try_from(attempts).unwrap_or(u32::MAX),
            policy,
            jitter(),
        );
        let now = self.clock.now();
        let (status, next_attempt_at) = match verdict {
            Verdict::Delivered => (DeliveryStatus::Delivered, now),
            Verdict::RetryAfter(wait) => (
                DeliveryStatus::Pending,
                now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
            ),
            Verdict::DeadLetter => (DeliveryStatus::Dead, now),
        };
        if status == DeliveryStatus::Dead {
            tracing::warn!(subscription = %row.name, delivery = %delivery.delivery_id, error = ?attempt.error, "delivery dead-lettered");
        }
        deliveries::record_attempt(
            &self.db,
            delivery.id,
            AttemptRecord {
                status,
                attempts,
                status_code: attempt.status_code,
                error: attempt.error.as_deref(),
                response_excerpt: attempt.excerpt.as_deref(),
                next_attempt_at,
            },
        )
        .await
    }

    async fn attempt(&self, row: &SubscriptionRow, delivery: &DueDelivery) -> Attempt {
        let url = match target::parse_target_url(&row.target_url, self.config.allow_private_targets)
        {
            Ok(url) => url,
            Err(e) => return Attempt::failed(AttemptOutcome::Blocked, e.message),
        };
        let timestamp = self.clock.now().timestamp();
        let signature = signing::sign(&row.secret, timestamp, delivery.body.as_bytes());
        let sent = self
            .client
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(DELIVERY_HEADER, delivery.delivery_id.as_str())
            .header(EVENT_HEADER, delivery.event_type.as_str())
            .body(delivery.body.clone())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => {
                if let Some(reason) = target::blocked_reason(&e) {
                    return Attempt::failed(AttemptOutcome::Blocked, reason);
                }
                let outcome = if e.is_timeout() {
                    AttemptOutcome::Timeout
                } else {
                    AttemptOutcome::Connection
                };
                return Attempt::failed(outcome, describe(&e));
            }
        };
        let code = response.status().as_u16();
        let mut excerpt = Vec::new();
        while excerpt.len() < RESPONSE_EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        excerpt.truncate(RESPONSE_EXCERPT_BYTES);
        let excerpt = String::from_utf8_lossy(&excerpt).into_owned();
        let error = (!response.status().is_success()).then(|| {
            let reason = response.status().canonical_reason().unwrap_or("");
            if (300..400).contains(&code) {
                format!("HTTP {code} {reason}: redirects are not followed")
            } else {
                format!("HTTP {code} {reason}")
            }
        });
        Attempt {
            outcome: AttemptOutcome::Status(code),
            status_code: Some(i64::from(code)),
            error,
            excerpt: Some(excerpt),
        }
    }
}

struct Attempt {
    outcome: AttemptOutcome,
    status_code: Option<i64>,
    error: Option<String>,
    excerpt: Option<String>,
}

impl Attempt {
    fn failed(outcome: AttemptOutcome, error: String) -> Self {
        Self {
            outcome,
            status_code: None,
            error: Some(error),
            excerpt: None,
        }
    }
}

/// What went wrong, in words a person can act on: the kind of failure and its root cause
/// (reqwest's own message repeats the URL the page already shows).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "no answer within the timeout".to_string();
    }
    let mut root: &(dyn std::error::Error + 'static) = error;
    while let Some(cause) = root.source() {
        root = cause;
    }
    let kind = if error.is_connect() {
        "cannot connect"
    } else {
        "the request failed"
    };
    format!("{kind}: {root}")
}

/// A random number in [0, 1) for the retry jitter.
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    match getrandom::getrandom(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}
