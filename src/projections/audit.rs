//! The audit trail of projection lifecycle steps: who did what to which version, and when.

use super::lifecycle::AuditAction;
use super::Definition;
use crate::db::{col, time_col, time_text, PortableDb, Tx};
use chrono::{DateTime, Utc};

/// The actor of steps the system takes on its own (a node's daemon records its node name).
pub const SYSTEM: &str = "system";

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: AuditAction,
    pub projection: String,
    pub detail: String,
}

pub async fn record(
    tx: &mut Tx,
    actor: &str,
    action: AuditAction,
    def: Definition,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projection_audit (at, actor, action, name, version, detail)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(time_text(Utc::now()))
    .bind(actor.to_string())
    .bind(action.as_str())
    .bind(def.name())
    .bind(def.version())
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A step that concerns the whole projection (its settings), not one version: stored as
/// version 0.
pub async fn record_for_projection(
    tx: &mut Tx,
    actor: &str,
    action: AuditAction,
    name: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projection_audit (at, actor, action, name, version, detail)
         VALUES ($1, $2, $3, $4, 0, $5)",
    )
    .bind(time_text(Utc::now()))
    .bind(actor.to_string())
    .bind(action.as_str())
    .bind(name.to_string())
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The newest entries first.
pub async fn recent(db: &PortableDb, limit: i64) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT at, actor, action, name, version, detail FROM projection_audit ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    decode_all(&rows)
}

/// The newest entries of one projection (all its versions and its settings) first.
pub async fn recent_for(
    db: &PortableDb,
    name: &str,
    limit: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT at, actor, action, name, version, detail FROM projection_audit
         WHERE name = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(name.to_string())
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    decode_all(&rows)
}

fn decode_all(rows: &[sqlx::any::AnyRow]) -> Result<Vec<AuditEntry>, sqlx::Error> {
    rows.iter()
        .map(|r| {
            let action: String = col(r, "action")?;
            Ok(AuditEntry {
                at: time_col(r, "at")?.unwrap_or_default(),
                actor: col(r, "actor")?,
                action: AuditAction::parse(&action).ok_or_else(|| {
                    sqlx::Error::Decode(format!("unknown audit action {action:?}").into())
                })?,
                projection: match (col::<String>(r, "name")?, col::<i64>(r, "version")?) {
                    (name, 0) => name,
                    (name, version) => format!("{name}@{version}"),
                },
                detail: col(r, "detail")?,
            })
        })
        .collect()
}
