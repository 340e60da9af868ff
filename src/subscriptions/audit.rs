//! The `subscription_audit` table: who created, paused, rewound, retried or discarded what.

use super::SubscriptionAuditEntry;
use crate::db::{col, time_col, time_text, PortableDb, Tx};
use crate::text_enum::text_enum;
use chrono::Utc;

text_enum! {
    /// What a person (or the system) did to a subscription.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum SubscriptionAction {
        Created = "created",
        Paused = "paused",
        Resumed = "resumed",
        Rewound = "rewound",
        RetriedDelivery = "retried delivery",
        DiscardedDelivery = "discarded delivery",
        RetriedAllDead = "retried all dead letters",
        DiscardedAllDead = "discarded all dead letters",
        SentTestEvent = "sent test event",
        Deleted = "deleted",
    }
}

pub async fn record(
    tx: &mut Tx,
    actor: &str,
    action: SubscriptionAction,
    subscription: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO subscription_audit (at, actor, action, subscription, detail)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(time_text(Utc::now()))
    .bind(actor.to_string())
    .bind(action.as_str())
    .bind(subscription.to_string())
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The newest entries of one subscription first.
pub async fn recent(
    db: &PortableDb,
    subscription: &str,
    limit: i64,
) -> Result<Vec<SubscriptionAuditEntry>, sqlx::Error> {
    sqlx::query(
        "SELECT at, actor, action, detail FROM subscription_audit
         WHERE subscription = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(subscription.to_string())
    .bind(limit)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| {
        Ok(SubscriptionAuditEntry {
            at: time_col(r, "at")?.unwrap_or_default(),
            actor: col(r, "actor")?,
            action: col(r, "action")?,
            detail: col(r, "detail")?,
        })
    })
    .collect()
}
