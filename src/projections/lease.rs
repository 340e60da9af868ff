//! Who runs a projection version (or a webhook subscription). On PostgreSQL a session-level advisory lock, held on a
//! dedicated connection, makes one node the owner; when that node dies its session ends and
//! another node takes the lock. On SQLite one process owns the file, so it always owns.

use super::Definition;
use sqlx::postgres::{PgConnection, PgPool};
use sqlx::Connection;

/// A held lease; dropping it (closing the connection) releases it.
pub enum Lease {
    Sqlite,
    Postgres(PgConnection),
}

impl Lease {
    /// False once the lock connection is gone: another node may own the version by now.
    pub async fn still_held(&mut self) -> bool {
        match self {
            Lease::Sqlite => true,
            Lease::Postgres(conn) => sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok(),
        }
    }
}

/// A stable 64-bit key for the advisory lock of one projection version.
pub fn lock_key(def: Definition) -> i64 {
    lock_key_for(&format!("projection:{}", def.key()))
}

/// A stable 64-bit key (FNV-1a) for the advisory lock of anything one node must run alone.
pub fn lock_key_for(name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("freightdesk:{name}").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

/// Tries to take the lease once. `spare` keeps an opened lock connection between attempts, so
/// a node that waits to take over does not reconnect every time.
pub async fn try_acquire(
    pool: Option<&PgPool>,
    def: Definition,
    spare: &mut Option<PgConnection>,
) -> Option<Lease> {
    try_acquire_key(pool, lock_key(def), spare).await
}

/// `try_acquire` for any lock key.
pub async fn try_acquire_key(
    pool: Option<&PgPool>,
    key: i64,
    spare: &mut Option<PgConnection>,
) -> Option<Lease> {
    let Some(pool) = pool else {
        return Some(Lease::Sqlite);
    };
    if spare.is_none() {
        *spare = Some(lock_connection(pool).await?);
    }
    let conn = spare.as_mut()?;
    match sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut *conn)
        .await
    {
        Ok(true) => spare.take().map(Lease::Postgres),
        Ok(false) => None,
        Err(e) => {
            tracing::warn!(error = %e, "advisory lock attempt failed");
            *spare = None;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        let keys: Vec<i64> = Definition::ALL.iter().map(|d| lock_key(*d)).collect();
        assert_eq!(keys[0], lock_key(Definition::ShipmentBoardV1));
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len());
    }
}
