//! What admins do with subscriptions (from the console and the CLI), each audited, and what the
//! console reads.

use super::audit::{self, SubscriptionAction};
use super::deliveries::{self, NewDelivery};
use super::repo::{self, NewSubscription, SubscriptionRow};
use super::signing::generate_secret;
use super::target::{check_target_resolves, parse_target_url, WebhookConfig};
use super::{
    payload, CreatedSubscription, DeliveryStatus, EventSelection, RewindTarget, SubscriptionDetail,
    SubscriptionState, SubscriptionSummary, TEST_EVENT_TYPE,
};
use crate::db::PortableDb;
use crate::domain::FieldError;
use crate::store::{EventStore, StoreError};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("no {0}")]
    NotFound(String),
    /// The request is understood but cannot be carried out as asked.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot generate a secret: {0}")]
    Secret(String),
}

impl From<FieldError> for SubscriptionError {
    fn from(e: FieldError) -> Self {
        SubscriptionError::Invalid(vec![e])
    }
}

/// A new subscription as typed into the form or given to the CLI.
pub struct SubscriptionInput {
    pub name: String,
    pub target_url: String,
    pub event_types: Vec<String>,
    pub place_filter: String,
    /// Empty: the default.
    pub max_attempts: String,
}

pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;
const MAX_ATTEMPTS_LIMIT: i64 = 50;
const NAME_MAX_CHARS: usize = 64;
/// Rows the console shows per list.
const LIST_LIMIT: i64 = 50;

fn parse_name(input: &str) -> Result<String, FieldError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "is required"));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(FieldError::new(
            "name",
            format!("is longer than {NAME_MAX_CHARS} characters"),
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
    {
        return Err(FieldError::new(
            "name",
            "may hold letters, digits, spaces, '-', '_' and '.'",
        ));
    }
    Ok(name.to_string())
}

fn parse_max_attempts(input: &str) -> Result<i64, FieldError> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(DEFAULT_MAX_ATTEMPTS);
    }
    match input.parse::<i64>() {
        Ok(n) if (1..=MAX_ATTEMPTS_LIMIT).contains(&n) => Ok(n),
        _ => Err(FieldError::new(
            "max_attempts",
            format!("must be a whole number from 1 to {MAX_ATTEMPTS_LIMIT}"),
        )),
    }
}

/// Creates a subscription that hears every matching event from now on. The secret is in the
/// answer and nowhere else the console or the logs show.
#[tracing::instrument(skip(db, store, config, input), fields(name = %input.name))]
pub async fn create(
    db: &PortableDb,
    store: &EventStore,
    config: &WebhookConfig,
    actor: &str,
    input: SubscriptionInput,
) -> Result<CreatedSubscription, SubscriptionError> {
    let parsed = (
        parse_name(&input.name),
        parse_target_url(&input.target_url, config.allow_private_targets),
        EventSelection::parse(&input.event_types, &input.place_filter),
        parse_max_attempts(&input.max_attempts),
    );
    let (name, url, selection, max_attempts) = match parsed {
        (Ok(n), Ok(u), Ok(s), Ok(m)) => (n, u, s, m),
        (n, u, s, m) => {
            return Err(SubscriptionError::Invalid(
                [n.err(), u.err(), s.err(), m.err()]
                    .into_iter()
                    .flatten()
                    .collect(),
            ))
        }
    };
    check_target_resolves(&url, config.allow_private_targets).await?;
    if repo::find_by_name(db, &name).await?.is_some() {
        return Err(FieldError::new("name", "is already taken by another subscription").into());
    }
    let secret = generate_secret().map_err(|e| SubscriptionError::Secret(e.to_string()))?;
    let checkpoint = store.head_checkpoint().await?;
    let mut tx = db.begin().await?;
    let id = repo::insert(
        &mut tx,
        NewSubscription {
            name: &name,
            target_url: url.as_str(),
            selection: &selection,
            secret: &secret,
            max_attempts,
            checkpoint: checkpoint.clone(),
            created_by: actor,
        },
    )
    .await?;
    let detail = format!(
        "{} to {}, {} attempts at most, from position {}",
        selection.describe(),
        url,
        max_attempts,
        checkpoint.seq
    );
    audit::record(&mut tx, actor, SubscriptionAction::Created, &name, &detail).await?;
    tx.commit().await?;
    Ok(CreatedSubscription { id, name, secret })
}

async fn load(db: &PortableDb, id: i64) -> Result<SubscriptionRow, SubscriptionError> {
    repo::find(db, id)
        .await?
        .ok_or_else(|| SubscriptionError::NotFound(format!("subscription #{id}")))
}

pub async fn find_by_name(
    db: &PortableDb,
    name: &str,
) -> Result<SubscriptionRow, SubscriptionError> {
    repo::find_by_name(db, name)
        .await?
        .ok_or_else(|| SubscriptionError::NotFound(format!("subscription {name}")))
}

/// Pauses or resumes. Pausing stops both reading and sending; on resume the subscription goes
/// on from its checkpoint, so what happened meanwhile is still delivered.
pub async fn set_state(
    db: &PortableDb,
    actor: &str,
    id: i64,
    state: SubscriptionState,
) -> Result<String, SubscriptionError> {
    let row = load(db, id).await?;
    let mut tx = db.begin().await?;
    if !repo::set_state(&mut tx, id, state).await? {
        return Err(SubscriptionError::Refused(format!(
            "{} is already {}",
            row.name,
            state.label().to_lowercase()
        )));
    }
    let action = match state {
        SubscriptionState::Active => SubscriptionAction::Resumed,
        SubscriptionState::Paused => SubscriptionAction::Paused,
    };
    audit::record(&mut tx, actor, action, &row.name, "").await?;
    tx.commit().await?;
    Ok(format!("{} is {}", row.name, state.label().to_lowercase()))
}

/// Sends the subscription back to a position or a time, so everything matching from there is
/// delivered again (as new deliveries). `confirm` must repeat the subscription's name.
pub async fn rewind(
    db: &PortableDb,
    store: &EventStore,
    actor: &str,
    id: i64,
    to: &str,
    confirm: &str,
) -> Result<String, SubscriptionError> {
    let row = load(db, id).await?;
    let confirmed = confirm.trim() == row.name;
    let target = match (RewindTarget::parse(to), confirmed) {
        (Ok(target), true) => target,
        (target, confirmed) => {
            let mut errors: Vec<FieldError> = target.err().into_iter().collect();
            if !confirmed {
                errors.push(FieldError::new(
                    "confirm",
                    format!("type the subscription's name ({}) to confirm", row.name),
                ));
            }
            return Err(SubscriptionError::Invalid(errors));
        }
    };
    let position = match target {
        RewindTarget::Position(seq) => store.checkpoint_before_event(seq).await?,
        RewindTarget::Time(at) => store.checkpoint_before_time(at).await?,
    };
    let Some(position) = position else {
        return Err(FieldError::new(
            "to",
            format!("no event at {}: nothing to re-send", target.describe()),
        )
        .into());
    };
    let mut tx = db.begin().await?;
    repo::rewind(&mut tx, id, &position).await?;
    let detail = format!(
        "from {} (checkpoint {} → {})",
        target.describe(),
        row.checkpoint.seq,
        position.seq
    );
    audit::record(
        &mut tx,
        actor,
        SubscriptionAction::Rewound,
        &row.name,
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(format!(
        "{} rewound: events from {} will be delivered again",
        row.name,
        target.describe()
    ))
}

/// Puts a dead delivery back in line, attempts reset.
pub async fn retry_delivery(
    db: &PortableDb,
    actor: &str,
    id: i64,
    delivery: i64,
) -> Result<String, SubscriptionError> {
    act_on_dead(db, actor, id, delivery, SubscriptionAction::RetriedDelivery).await
}

/// Gives a dead delivery up for good.
pub async fn discard_delivery(
    db: &PortableDb,
    actor: &str,
    id: i64,
    delivery: i64,
) -> Result<String, SubscriptionError> {
    act_on_dead(
        db,
        actor,
        id,
        delivery,
        SubscriptionAction::DiscardedDelivery,
    )
    .await
}

async fn act_on_dead(
    db: &PortableDb,
    actor: &str,
    id: i64,
    delivery: i64,
    action: SubscriptionAction,
) -> Result<String, SubscriptionError> {
    let row = load(db, id).await?;
    let found = deliveries::find(db, id, delivery)
        .await?
        .ok_or_else(|| SubscriptionError::NotFound(format!("delivery #{delivery}")))?;
    let mut tx = db.begin().await?;
    let done = match action {
        SubscriptionAction::RetriedDelivery => {
            deliveries::retry_dead(&mut tx, id, delivery).await?
        }
        _ => deliveries::discard(&mut tx, id, delivery).await?,
    };
    if !done {
        return Err(SubscriptionError::Refused(format!(
            "delivery #{delivery} is {}, not a dead letter",
            found.status.label().to_lowercase()
        )));
    }
    let detail = format!(
        "delivery {} ({} at position {})",
        found.delivery_id, found.event_type, found.event_seq
    );
    audit::record(&mut tx, actor, action, &row.name, &detail).await?;
    tx.commit().await?;
    Ok(match action {
        SubscriptionAction::RetriedDelivery => format!("Delivery #{delivery} will be sent again"),
        _ => format!("Delivery #{delivery} discarded"),
    })
}

/// Puts every dead letter back in line at once. `expected` is the count the admin confirmed:
/// if the dead letters are no longer that many, nothing is done and the answer says so.
pub async fn retry_all_dead(
    db: &PortableDb,
    actor: &str,
    id: i64,
    expected: u64,
) -> Result<String, SubscriptionError> {
    act_on_all_dead(db, actor, id, expected, SubscriptionAction::RetriedAllDead).await
}

/// Gives every dead letter up for good, as `retry_all_dead` confirms its count.
pub async fn discard_all_dead(
    db: &PortableDb,
    actor: &str,
    id: i64,
    expected: u64,
) -> Result<String, SubscriptionError> {
    act_on_all_dead(
        db,
        actor,
        id,
        expected,
        SubscriptionAction::DiscardedAllDead,
    )
    .await
}

/// One transaction and one audit entry with the count, whatever the count.
async fn act_on_all_dead(
    db: &PortableDb,
    actor: &str,
    id: i64,
    expected: u64,
    action: SubscriptionAction,
) -> Result<String, SubscriptionError> {
    let row = load(db, id).await?;
    let retry = action == SubscriptionAction::RetriedAllDead;
    let mut tx = db.begin().await?;
    let done = deliveries::act_on_all_dead(&mut tx, id, retry).await?;
    if done != expected || done == 0 {
        // Dropped uncommitted: nothing changes.
        return Err(SubscriptionError::Refused(format!(
            "{} has {done} dead letters now, not the {expected} confirmed; nothing was changed, look again",
            row.name
        )));
    }
    let detail = format!("{done} dead letters");
    audit::record(&mut tx, actor, action, &row.name, &detail).await?;
    tx.commit().await?;
    Ok(if retry {
        format!("{done} dead letters of {} will be sent again", row.name)
    } else {
        format!("{done} dead letters of {} discarded", row.name)
    })
}

/// Queues a test document, delivered (signed, retried) like any other delivery.
pub async fn send_test_event(
    db: &PortableDb,
    actor: &str,
    id: i64,
) -> Result<String, SubscriptionError> {
    let row = load(db, id).await?;
    let delivery_id = Uuid::new_v4();
    let delivery = NewDelivery {
        delivery_id,
        subscription_id: id,
        event_id: Uuid::new_v4().to_string(),
        event_seq: 0,
        // A stream of its own, so a test never waits behind a shipment's deliveries.
        stream_id: Uuid::new_v4().to_string(),
        event_type: TEST_EVENT_TYPE.to_string(),
        body: payload::test_document(delivery_id, &row.name, actor),
    };
    let mut tx = db.begin().await?;
    deliveries::insert(&mut tx, &delivery).await?;
    let detail = format!("delivery {delivery_id}");
    audit::record(
        &mut tx,
        actor,
        SubscriptionAction::SentTestEvent,
        &row.name,
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(match row.state {
        SubscriptionState::Active => format!("Test event queued for {}", row.name),
        SubscriptionState::Paused => format!(
            "Test event queued for {}; it is paused, so it goes out on resume",
            row.name
        ),
    })
}

/// Removes the subscription and its deliveries. `confirm` must repeat its name.
pub async fn delete(
    db: &PortableDb,
    actor: &str,
    id: i64,
    confirm: &str,
) -> Result<String, SubscriptionError> {
    let row = load(db, id).await?;
    if confirm.trim() != row.name {
        return Err(FieldError::new(
            "confirm",
            format!("type the subscription's name ({}) to confirm", row.name),
        )
        .into());
    }
    let mut tx = db.begin().await?;
    deliveries::delete_all(&mut tx, id).await?;
    repo::delete(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        SubscriptionAction::Deleted,
        &row.name,
        &row.target_url,
    )
    .await?;
    tx.commit().await?;
    Ok(format!("{} deleted", row.name))
}

async fn summarize(
    db: &PortableDb,
    store: &EventStore,
    row: SubscriptionRow,
) -> Result<SubscriptionSummary, SubscriptionError> {
    let (lag_events, _) = store.backlog(&row.checkpoint).await?;
    let (pending, delivered, dead) = deliveries::counts(db, row.id).await?;
    let last_error = deliveries::last_error(db, row.id).await?;
    let last_delivered_at = deliveries::last_delivered_at(db, row.id).await?;
    Ok(SubscriptionSummary {
        id: row.id,
        name: row.name,
        target_url: row.target_url,
        selection: row.selection,
        state: row.state,
        max_attempts: row.max_attempts,
        checkpoint: row.checkpoint.seq,
        lag_events,
        owner: row.owner,
        pending,
        delivered,
        dead,
        last_error,
        last_delivered_at,
        created_at: row.created_at,
        created_by: row.created_by,
    })
}

pub async fn list(
    db: &PortableDb,
    store: &EventStore,
) -> Result<Vec<SubscriptionSummary>, SubscriptionError> {
    let mut out = Vec::new();
    for row in repo::list(db).await? {
        out.push(summarize(db, store, row).await?);
    }
    Ok(out)
}

/// The page of one subscription; its dead letters a page at a time, after the dead letter
/// `dead_after` (0: from the first).
pub async fn detail(
    db: &PortableDb,
    store: &EventStore,
    id: i64,
    dead_after: i64,
) -> Result<SubscriptionDetail, SubscriptionError> {
    let row = load(db, id).await?;
    let name = row.name.clone();
    // One more than a page says whether another page follows.
    let mut dead =
        deliveries::with_status(db, id, DeliveryStatus::Dead, dead_after, LIST_LIMIT + 1).await?;
    let more_dead = dead.len() as i64 > LIST_LIMIT;
    dead.truncate(LIST_LIMIT as usize);
    Ok(SubscriptionDetail {
        summary: summarize(db, store, row).await?,
        recent: deliveries::recent(db, id, LIST_LIMIT).await?,
        dead_next: more_dead.then(|| dead.last().map(|d| d.id)).flatten(),
        dead_after: (dead_after > 0).then_some(dead_after),
        dead,
        audit: audit::recent(db, &name, LIST_LIMIT).await?,
    })
}
