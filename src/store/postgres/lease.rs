//! The lease on PostgreSQL: a session-level advisory lock on a connection of its own.

use super::super::lease::Held;
use super::super::{Lease, LeaseSpare};
use sqlx::postgres::{PgConnection, PgPool};
use sqlx::Connection;

/// Tries the lock once on the spare connection (opening one if there is none). Taken: the
/// connection becomes the lease. Refused: it stays spare for the next attempt.
pub(super) async fn try_lease(pool: &PgPool, key: i64, spare: &mut LeaseSpare) -> Option<Lease> {
    if spare.0.is_none() {
        spare.0 = Some(lock_connection(pool).await?);
    }
    let conn = spare.0.as_mut()?;
    match sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut *conn)
        .await
    {
        Ok(true) => spare.0.take().map(|conn| Lease(Held::Session(conn))),
        Ok(false) => None,
        Err(e) => {
            tracing::warn!(error = %e, "advisory lock attempt failed");
            spare.0 = None;
            None
        }
    }
}

/// A connection of its own for the lock. The lock lives as long as this session, so the
/// server is told to notice within seconds when this node's host vanishes without closing it.
async fn lock_connection(pool: &PgPool) -> Option<PgConnection> {
    let mut conn = match PgConnection::connect_with(&pool.connect_options()).await {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(error = %e, "cannot open a lock connection");
            return None;
        }
    };
    for setting in [
        "SET tcp_keepalives_idle = 5",
        "SET tcp_keepalives_interval = 2",
        "SET tcp_keepalives_count = 3",
    ] {
        if let Err(e) = sqlx::query(setting).execute(&mut conn).await {
            tracing::warn!(error = %e, "cannot set keepalives on the lock connection");
        }
    }
    Some(conn)
}
