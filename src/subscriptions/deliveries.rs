//! The `webhook_deliveries` table (the outbox): every statement on it is here.

use super::{DeliveryError, DeliveryStatus, DeliveryView, TEST_EVENT_TYPE};
use crate::db::{col, time_col, time_text, PortableDb, Tx};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

/// A delivery to be written into the outbox.
pub struct NewDelivery {
    pub delivery_id: Uuid,
    pub subscription_id: i64,
    pub event_id: String,
    pub event_seq: i64,
    pub stream_id: String,
    pub event_type: String,
    pub body: String,
}

/// A pending delivery whose turn has come.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    pub delivery_id: String,
    pub event_type: String,
    pub body: String,
    pub attempts: i64,
}

/// What one attempt left behind.
pub struct AttemptRecord<'a> {
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub status_code: Option<i64>,
    pub error: Option<&'a str>,
    pub response_excerpt: Option<&'a str>,
    pub next_attempt_at: DateTime<Utc>,
}

const VIEW_COLUMNS: &str = "id, delivery_id, event_seq, event_type, stream_id, status, attempts, \
     last_status_code, last_error, response_excerpt, next_attempt_at, created_at, finished_at";

fn decode_view(r: &AnyRow) -> Result<DeliveryView, sqlx::Error> {
    let status: String = col(r, "status")?;
    Ok(DeliveryView {
        id: col(r, "id")?,
        delivery_id: col(r, "delivery_id")?,
        event_seq: col(r, "event_seq")?,
        event_type: col(r, "event_type")?,
        stream_id: col(r, "stream_id")?,
        status: DeliveryStatus::parse(&status).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown delivery status {status:?}").into())
        })?,
        attempts: col(r, "attempts")?,
        last_status_code: col(r, "last_status_code")?,
        last_error: col(r, "last_error")?,
        response_excerpt: col(r, "response_excerpt")?,
        next_attempt_at: time_col(r, "next_attempt_at")?.unwrap_or_default(),
        created_at: time_col(r, "created_at")?.unwrap_or_default(),
        finished_at: time_col(r, "finished_at")?,
    })
}

pub async fn insert(tx: &mut Tx, d: &NewDelivery) -> Result<(), sqlx::Error> {
    let now = time_text(Utc::now());
    sqlx::query(
        "INSERT INTO webhook_deliveries (delivery_id, subscription_id, event_id, event_seq,
                                         stream_id, event_type, body, status, next_attempt_at,
                                         created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(d.delivery_id.to_string())
    .bind(d.subscription_id)
    .bind(d.event_id.clone())
    .bind(d.event_seq)
    .bind(d.stream_id.clone())
    .bind(d.event_type.clone())
    .bind(d.body.clone())
    .bind(DeliveryStatus::Pending.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Pending deliveries due by `now`, oldest first, at most one per stream: the oldest pending
/// one of each stream, so a later event of a shipment never overtakes an earlier one.
pub async fn due(
    db: &PortableDb,
    subscription_id: i64,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DueDelivery>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT d.id, d.delivery_id, d.event_type, d.body, d.attempts
         FROM webhook_deliveries d
         WHERE d.subscription_id = $1 AND d.status = $2 AND d.next_attempt_at <= $3
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                           WHERE e.subscription_id = d.subscription_id
                             AND e.stream_id = d.stream_id
                             AND e.status = $2 AND e.id < d.id)
         ORDER BY d.id
         LIMIT $4",
    )
    .bind(subscription_id)
    .bind(DeliveryStatus::Pending.as_str())
    .bind(time_text(now))
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DueDelivery {
                id: col(r, "id")?,
                delivery_id: col(r, "delivery_id")?,
                event_type: col(r, "event_type")?,
                body: col(r, "body")?,
                attempts: col(r, "attempts")?,
            })
        })
        .collect()
}

/// When the next pending delivery falls due, if any is pending.
pub async fn next_due(
    db: &PortableDb,
    subscription_id: i64,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let next: Option<String> = sqlx::query_scalar(
        "SELECT MIN(next_attempt_at) FROM webhook_deliveries
         WHERE subscription_id = $1 AND status = $2",
    )
    .bind(subscription_id)
    .bind(DeliveryStatus::Pending.as_str())
    .fetch_one(db.read())
    .await?;
    next.map(|t| crate::db::decode_time(&t)).transpose()
}

/// Records an attempt on a delivery that is still pending (a person may have acted on it
/// meanwhile: then this attempt's outcome is dropped).
pub async fn record_attempt(
    db: &PortableDb,
    id: i64,
    a: AttemptRecord<'_>,
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let finished = (a.status != DeliveryStatus::Pending).then(|| time_text(now));
    db.execute(
        sqlx::query(
            "UPDATE webhook_deliveries
         SET status = $1, attempts = $2, last_status_code = $3, last_error = $4,
             response_excerpt = $5, next_attempt_at = $6, last_attempt_at = $7, finished_at = $8
         WHERE id = $9 AND status = $10",
        )
        .bind(a.status.as_str())
        .bind(a.attempts)
        .bind(a.status_code)
        .bind(a.error.map(str::to_string))
        .bind(a.response_excerpt.map(str::to_string))
        .bind(time_text(a.next_attempt_at))
        .bind(time_text(now))
        .bind(finished)
        .bind(id)
        .bind(DeliveryStatus::Pending.as_str()),
    )
    .await?;
    Ok(())
}

/// A dead delivery goes back to pending with its attempts reset; false if it is not dead.
pub async fn retry_dead(tx: &mut Tx, subscription_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries
         SET status = $1, attempts = 0, next_attempt_at = $2, finished_at = NULL
         WHERE id = $3 AND subscription_id = $4 AND status = $5",
    )
    .bind(DeliveryStatus::Pending.as_str())
    .bind(time_text(Utc::now()))
    .bind(id)
    .bind(subscription_id)
    .bind(DeliveryStatus::Dead.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A dead delivery is given up for good; false if it is not dead.
pub async fn discard(tx: &mut Tx, subscription_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = $1, finished_at = $2
         WHERE id = $3 AND subscription_id = $4 AND status = $5",
    )
    .bind(DeliveryStatus::Discarded.as_str())
    .bind(time_text(Utc::now()))
    .bind(id)
    .bind(subscription_id)
    .bind(DeliveryStatus::Dead.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every dead delivery of the subscription back in line (attempts reset), or given up for
/// good; answers how many.
pub async fn act_on_all_dead(
    tx: &mut Tx,
    subscription_id: i64,
    retry: bool,
) -> Result<u64, sqlx::Error> {
    let (sql, status) = if retry {
        (
            "UPDATE webhook_deliveries SET status = $1, attempts = 0, next_attempt_at = $2, finished_at = NULL
             WHERE subscription_id = $3 AND status = $4",
            DeliveryStatus::Pending,
        )
    } else {
        (
            "UPDATE webhook_deliveries SET status = $1, finished_at = $2
             WHERE subscription_id = $3 AND status = $4",
            DeliveryStatus::Discarded,
        )
    };
    let done = sqlx::query(sql)
        .bind(status.as_str())
        .bind(time_text(Utc::now()))
        .bind(subscription_id)
        .bind(DeliveryStatus::Dead.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

pub async fn find(
    db: &PortableDb,
    subscription_id: i64,
    id: i64,
) -> Result<Option<DeliveryView>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {VIEW_COLUMNS} FROM webhook_deliveries WHERE id = $1 AND subscription_id = $2"
    ))
    .bind(id)
    .bind(subscription_id)
    .fetch_optional(db.read())
    .await?
    .as_ref()
    .map(decode_view)
    .transpose()
}

/// The newest deliveries first.
pub async fn recent(
    db: &PortableDb,
    subscription_id: i64,
    limit: i64,
) -> Result<Vec<DeliveryView>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {VIEW_COLUMNS} FROM webhook_deliveries WHERE subscription_id = $1
         ORDER BY id DESC LIMIT $2"
    ))
    .bind(subscription_id)
    .bind(limit)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(decode_view)
    .collect()
}

/// Deliveries in one status, oldest first.
pub async fn with_status(
    db: &PortableDb,
    subscription_id: i64,
    status: DeliveryStatus,
    after_id: i64,
    limit: i64,
) -> Result<Vec<DeliveryView>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {VIEW_COLUMNS} FROM webhook_deliveries
         WHERE subscription_id = $1 AND status = $2 AND id > $3
         ORDER BY id LIMIT $4"
    ))
    .bind(subscription_id)
    .bind(status.as_str())
    .bind(after_id)
    .bind(limit)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(decode_view)
    .collect()
}

/// How many deliveries are pending, delivered and dead.
pub async fn counts(db: &PortableDb, subscription_id: i64) -> Result<(i64, i64, i64), sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM webhook_deliveries
         WHERE subscription_id = $1 AND event_type <> $2 GROUP BY status",
    )
    .bind(subscription_id)
    .bind(TEST_EVENT_TYPE)
    .fetch_all(db.read())
    .await?;
    let count = |s: DeliveryStatus| {
        rows.iter()
            .find(|(status, _)| status == s.as_str())
            .map_or(0, |(_, n)| *n)
    };
    Ok((
        count(DeliveryStatus::Pending),
        count(DeliveryStatus::Delivered),
        count(DeliveryStatus::Dead),
    ))
}

/// When the most recent delivery of a real event succeeded.
pub async fn last_delivered_at(
    db: &PortableDb,
    subscription_id: i64,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT finished_at FROM webhook_deliveries
         WHERE subscription_id = $1 AND status = $2 AND event_type <> $3 AND finished_at IS NOT NULL
         ORDER BY finished_at DESC LIMIT 1",
    )
    .bind(subscription_id)
    .bind(DeliveryStatus::Delivered.as_str())
    .bind(TEST_EVENT_TYPE)
    .fetch_optional(db.read())
    .await?;
    Ok(match row {
        Some(r) => time_col(&r, "finished_at")?,
        None => None,
    })
}

/// The most recent failed attempt of any delivery of a real event (test events are checks of
/// the receiver, not of the subscription: their verdict is shown where they were sent).
pub async fn last_error(
    db: &PortableDb,
    subscription_id: i64,
) -> Result<Option<DeliveryError>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT last_attempt_at, last_status_code, last_error FROM webhook_deliveries
         WHERE subscription_id = $1 AND last_error IS NOT NULL AND last_attempt_at IS NOT NULL
           AND event_type <> $2
         ORDER BY last_attempt_at DESC LIMIT 1",
    )
    .bind(subscription_id)
    .bind(TEST_EVENT_TYPE)
    .fetch_optional(db.read())
    .await?;
    row.map(|r| {
        Ok(DeliveryError {
            at: time_col(&r, "last_attempt_at")?.unwrap_or_default(),
            status_code: col(&r, "last_status_code")?,
            message: col(&r, "last_error")?,
        })
    })
    .transpose()
}

pub async fn delete_all(tx: &mut Tx, subscription_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM webhook_deliveries WHERE subscription_id = $1")
        .bind(subscription_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
