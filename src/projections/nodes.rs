//! The node registry: which processes run projections, what they may run, and when they last
//! said they are alive.

use crate::db::{col, time_col, time_text, PortableDb};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq)]
pub struct NodeRow {
    pub name: String,
    pub capabilities: String,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
}

pub async fn heartbeat(
    db: &PortableDb,
    node: &str,
    capabilities: &str,
    started_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    db.execute(sqlx::query(
        "INSERT INTO nodes (name, capabilities, started_at, heartbeat_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET capabilities = excluded.capabilities,
             started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at",
    )
    .bind(node.to_string())
    .bind(capabilities.to_string())
    .bind(time_text(started_at))
    .bind(time_text(Utc::now())))
    .await?;
    Ok(())
}

/// The most recently seen nodes first.
pub async fn list(db: &PortableDb) -> Result<Vec<NodeRow>, sqlx::Error> {
    let rows = sqlx::query("SELECT * FROM nodes ORDER BY heartbeat_at DESC LIMIT 50")
        .fetch_all(db.read())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(NodeRow {
                name: col(r, "name")?,
                capabilities: col(r, "capabilities")?,
                started_at: time_col(r, "started_at")?.unwrap_or_default(),
                heartbeat_at: time_col(r, "heartbeat_at")?.unwrap_or_default(),
            })
        })
        .collect()
}

/// Seconds since `node` last sent a heartbeat, if it ever did.
pub async fn heartbeat_age(
    db: &PortableDb,
    node: &str,
    now: DateTime<Utc>,
) -> Result<Option<f64>, sqlx::Error> {
    let row = sqlx::query("SELECT heartbeat_at FROM nodes WHERE name = $1")
        .bind(node.to_string())
        .fetch_optional(db.read())
        .await?;
    Ok(row
        .map(|r| time_col(&r, "heartbeat_at"))
        .transpose()?
        .flatten()
        .map(|at| (now - at).num_milliseconds().max(0) as f64 / 1000.0))
}
