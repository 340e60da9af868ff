//! Who runs a piece of work alone (a projection version, a webhook subscription). On
//! PostgreSQL a session-level advisory lock, held on a connection of its own, makes one node
//! the owner; when that node dies its session ends and another node takes the lock (the SQL is
//! in `postgres/lease.rs`). On SQLite one process owns the file, so it always owns.

use sqlx::PgConnection;

/// A held lease; dropping it (closing its connection) releases it.
pub struct Lease(pub(super) Held);

pub(super) enum Held {
    WholeFile,
    Session(PgConnection),
}

/// A lock connection kept between attempts, so a node that waits to take over does not
/// reconnect every time.
#[derive(Default)]
pub struct LeaseSpare(pub(super) Option<PgConnection>);

impl Lease {
    /// False once the lock connection is gone: another node may own the work by now.
    pub async fn still_held(&mut self) -> bool {
        match &mut self.0 {
            Held::WholeFile => true,
            Held::Session(conn) => sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok(),
        }
    }
}
