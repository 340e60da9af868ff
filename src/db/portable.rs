//! The portable-SQL pool (see the `db` module comment) and SQLite's write turns.
//!
//! Its pools are private: reads go through `read()`, writes through `begin()` or `execute()`,
//! so on SQLite every writer takes its turn by construction. The read pool's SQLite
//! connections are `query_only`: a write that slipped through it fails at once instead of
//! jumping the queue.

use super::{DatabaseUrl, Dialect, APPLICATION_NAME};
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyQueryResult};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool, Transaction};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OwnedMutexGuard;

#[derive(Debug, Clone)]
pub struct PortableDb {
    reads: AnyPool,
    /// The same pool as `reads` on PostgreSQL; on SQLite a small pool of its own, used only
    /// while holding a write turn.
    writes: AnyPool,
    dialect: Dialect,
    /// SQLite only: this process's writers take turns here (see `WriteTurns`).
    turns: Option<WriteTurns>,
}

/// SQLite lets one transaction write at a time, and a writer that finds the lock taken sleeps
/// in growing steps (up to 100 ms) before it asks again: with a dozen writers that sleep, not
/// the work, made the tail. So every writer of this process (the event store's appends and
/// each portable write) first waits for its turn here, in arrival order, and only then asks
/// SQLite for the lock, which it then almost always gets at once. `Database::open` makes one
/// per database and hands it to both pools; other processes writing the same file still meet
/// the busy timeout.
#[derive(Debug, Clone, Default)]
pub struct WriteTurns(Arc<tokio::sync::Mutex<()>>);

impl WriteTurns {
    /// Waits for this process's turn to write; the turn ends when the guard is dropped. As
    /// long as SQLite's own busy timeout, then the database counts as busy.
    pub async fn wait(&self) -> Result<OwnedMutexGuard<()>, sqlx::Error> {
        tokio::time::timeout(Self::PATIENCE, self.0.clone().lock_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)
    }

    pub const PATIENCE: Duration = Duration::from_secs(30);
}

/// A write transaction on the portable pool; on SQLite it holds this process's write turn
/// until it commits or is dropped (rolled back).
pub struct Tx {
    // Declared first so it is dropped first: the rollback is under way before the turn passes.
    tx: Transaction<'static, Any>,
    _turn: Option<OwnedMutexGuard<()>>,
    dialect: Dialect,
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// Which SQL dialect this transaction speaks, for the few statements that differ.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}

impl Deref for Tx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// A PostgreSQL that went away answers "unavailable" within seconds; SQLite waits longer,
/// because there a slow acquire means writers queueing, not an outage.
fn acquire_timeout(dialect: Dialect) -> Duration {
    match dialect {
        Dialect::Postgres => Duration::from_secs(5),
        Dialect::Sqlite => Duration::from_secs(30),
    }
}

async fn pool(
    url: &DatabaseUrl,
    max_connections: u32,
    query_only: bool,
) -> Result<AnyPool, sqlx::Error> {
    let dialect = url.dialect();
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout(dialect))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if dialect == Dialect::Sqlite {
                    // Same settings as the event store's own SQLite pool.
                    let patience = WriteTurns::PATIENCE.as_millis();
                    sqlx::query(&format!("PRAGMA busy_timeout = {patience}"))
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA foreign_keys = ON")
                        .execute(&mut *conn)
                        .await?;
                    if query_only {
                        sqlx::query("PRAGMA query_only = ON")
                            .execute(&mut *conn)
                            .await?;
                    }
                }
                Ok(())
            })
        })
        .connect(&named(url))
        .await
}

/// The URL with freightdesk's `application_name` on PostgreSQL (the last one given wins, as
/// the event store's pool also sets it).
fn named(url: &DatabaseUrl) -> String {
    let text = url.as_str();
    if url.dialect() != Dialect::Postgres {
        return text.to_string();
    }
    let separator = if text.contains('?') { '&' } else { '?' };
    format!("{text}{separator}application_name={APPLICATION_NAME}")
}

impl PortableDb {
    /// Only `Database::open` connects, after the migrations ran, with the database's one
    /// write queue.
    pub(crate) async fn connect(
        url: &DatabaseUrl,
        turns: Option<WriteTurns>,
    ) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let dialect = url.dialect();
        let (reads, writes) = match dialect {
            Dialect::Postgres => {
                let shared = pool(url, 8, false).await?;
                (shared.clone(), shared)
            }
            // Writers take turns, so two connections are plenty: one writes, one is spare.
            Dialect::Sqlite => (pool(url, 8, true).await?, pool(url, 2, false).await?),
        };
        Ok(Self {
            reads,
            writes,
            dialect,
            turns,
        })
    }

    /// Which SQL dialect this database speaks, for the few statements that differ.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The pool for reads. On SQLite its connections refuse writes.
    pub fn read(&self) -> &AnyPool {
        &self.reads
    }

    async fn turn(&self) -> Result<Option<OwnedMutexGuard<()>>, sqlx::Error> {
        match &self.turns {
            Some(turns) => Ok(Some(turns.wait().await?)),
            None => Ok(None),
        }
    }

    /// A write transaction. On SQLite it takes the write lock up front, so it waits its turn
    /// instead of failing when it upgrades from reading to writing.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let turn = self.turn().await?;
        let tx = match self.dialect {
            Dialect::Postgres => self.writes.begin().await?,
            Dialect::Sqlite => self.writes.begin_with("BEGIN IMMEDIATE").await?,
        };
        Ok(Tx {
            tx,
            _turn: turn,
            dialect: self.dialect,
        })
    }

    /// Runs one writing statement on its own (it commits by itself), in this process's turn.
    pub async fn execute<'q>(
        &self,
        query: Query<'q, Any, AnyArguments<'q>>,
    ) -> Result<AnyQueryResult, sqlx::Error> {
        let _turn = self.turn().await?;
        query.execute(&self.writes).await
    }

    /// Closes the pools: later calls fail as if the database went away.
    pub async fn close(&self) {
        self.reads.close().await;
        self.writes.close().await;
    }
}
