//! The projection daemon. For every version this node may run, it takes ownership (on
//! PostgreSQL a session-level advisory lock held on a dedicated connection, so exactly one node
//! runs a version and another takes over when it dies), then reads the log after the version's
//! checkpoint, applies each batch and advances the checkpoint in the same transaction. The
//! checkpoint update is itself conditional on the old checkpoint, so even a node that lost its
//! lock without noticing cannot apply a batch twice.

use super::catalog::{self, VersionRow, VersionState};
use super::db::ProjectionDb;
use super::{ApplyError, Definition};
use crate::store::{time_text, Batch, EventStore, Position, StoreError};
use chrono::Utc;
use sqlx::postgres::PgConnection;
use sqlx::Connection;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Events per transaction unless configured otherwise.
pub const DEFAULT_BATCH_SIZE: i64 = 500;
/// How often a waiting daemon looks again, in case a notification was missed.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// How often a node that does not own a version tries to take it over.
const TAKEOVER_INTERVAL: Duration = Duration::from_secs(1);
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct Daemon {
    store: EventStore,
    db: ProjectionDb,
    node: String,
    capabilities: Vec<Definition>,
    batch_size: i64,
}

/// Stops the daemon's tasks when asked (or when dropped with the process).
pub struct DaemonHandle {
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl DaemonHandle {
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

enum Progress {
    Worked,
    Idle,
    /// Failed or retired: nothing to do until an operator acts.
    Blocked,
}

/// What one version's task remembers between steps.
#[derive(Default)]
struct RunState {
    rate: RateWindow,
    /// After a batch failed: apply one event per transaction up to here, so the failure names
    /// the exact event (and events before it are not held back by it).
    narrow_main_until: Option<Position>,
    narrow_rebuild_until: Option<Position>,
}

/// Events applied in the last minute, for the rate shown to operators.
#[derive(Default)]
struct RateWindow(VecDeque<(Instant, usize)>);

impl RateWindow {
    fn record(&mut self, n: usize) {
        self.0.push_back((Instant::now(), n));
    }

    fn per_second(&mut self) -> f64 {
        let horizon = Duration::from_secs(60);
        while self.0.front().is_some_and(|(t, _)| t.elapsed() > horizon) {
            self.0.pop_front();
        }
        let total: usize = self.0.iter().map(|(_, n)| n).sum();
        total as f64 / horizon.as_secs_f64()
    }
}

/// A stable 64-bit key for the advisory lock of one projection version.
fn lock_key(def: Definition) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("freightdesk:projection:{}", def.key()).bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

/// Who runs a version. On SQLite there is one process, so it always does.
enum Ownership {
    Sqlite,
    Postgres(PgConnection),
}

impl Ownership {
    async fn still_held(&mut self) -> bool {
        match self {
            Ownership::Sqlite => true,
            Ownership::Postgres(conn) => sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok(),
        }
    }
}

impl Daemon {
    pub fn new(
        store: EventStore,
        db: ProjectionDb,
        node: String,
        capabilities: Vec<Definition>,
    ) -> Self {
        Self {
            store,
            db,
            node,
            capabilities,
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }

    /// How many events each transaction applies (smaller: finer progress, more commits).
    pub fn with_batch_size(mut self, batch_size: i64) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// Registers this node's versions and starts one task per version plus the heartbeat.
    pub async fn start(self) -> Result<DaemonHandle, sqlx::Error> {
        for def in &self.capabilities {
            catalog::register(&self.db, *def).await?;
        }
        let (shutdown, _) = watch::channel(false);
        let mut tasks = vec![tokio::spawn(self.clone().heartbeat(shutdown.subscribe()))];
        for def in self.capabilities.clone() {
            tasks.push(tokio::spawn(self.clone().run(def, shutdown.subscribe())));
        }
        tracing::info!(node = %self.node, versions = ?self.capabilities.iter().map(Definition::key).collect::<Vec<_>>(), "projection daemon started");
        Ok(DaemonHandle { shutdown, tasks })
    }

    async fn heartbeat(self, mut shutdown: watch::Receiver<bool>) {
        let started_at = Utc::now();
        let capabilities: Vec<String> = self.capabilities.iter().map(Definition::key).collect();
        let capabilities = capabilities.join(",");
        loop {
            if let Err(e) =
                catalog::heartbeat(&self.db, &self.node, &capabilities, started_at).await
            {
                tracing::warn!(error = %e, "heartbeat failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(HEARTBEAT_INTERVAL) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    async fn try_acquire(
        &self,
        def: Definition,
        lock_conn: &mut Option<PgConnection>,
    ) -> Option<Ownership> {
        let Some(pool) = self.store.postgres_pool() else {
            return Some(Ownership::Sqlite);
        };
        if lock_conn.is_none() {
            match PgConnection::connect_with(&pool.connect_options()).await {
                Ok(mut conn) => {
                    // The lock lives as long as this session; make the server notice within
                    // seconds when this node's host vanishes without closing the connection.
                    for setting in [
                        "SET tcp_keepalives_idle = 5",
                        "SET tcp_keepalives_interval = 2",
                        "SET tcp_keepalives_count = 3",
                    ] {
                        if let Err(e) = sqlx::query(setting).execute(&mut conn).await {
                            tracing::warn!(error = %e, "cannot set keepalives on the lock connection");
                        }
                    }
                    *lock_conn = Some(conn)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot open a lock connection");
                    return None;
                }
            }
        }
        let conn = lock_conn.as_mut()?;
        match sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
            .bind(lock_key(def))
            .fetch_one(&mut *conn)
            .await
        {
            Ok(true) => lock_conn.take().map(Ownership::Postgres),
            Ok(false) => None,
            Err(e) => {
                tracing::warn!(error = %e, "advisory lock attempt failed");
                *lock_conn = None;
                None
            }
        }
    }

    async fn set_owner(&self, def: Definition, owner: Option<&str>) {
        let result = sqlx::query(
            "UPDATE projection_versions SET owner_node = $1 WHERE name = $2 AND version = $3",
        )
        .bind(owner.map(str::to_string))
        .bind(def.name())
        .bind(def.version())
        .execute(&self.db.pool)
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot record the owner of {}", def.key());
        }
    }

    async fn run(self, def: Definition, mut shutdown: watch::Receiver<bool>) {
        let mut lock_conn = None;
        loop {
            let Some(ownership) = self.try_acquire(def, &mut lock_conn).await else {
                tokio::select! {
                    _ = tokio::time::sleep(TAKEOVER_INTERVAL) => continue,
                    _ = shutdown.changed() => return,
                }
            };
            tracing::info!(node = %self.node, "running {}", def.key());
            self.set_owner(def, Some(&self.node)).await;
            let released = self.run_owned(def, ownership, &mut shutdown).await;
            if released {
                self.set_owner(def, None).await;
                return;
            }
            tracing::warn!(node = %self.node, "lost ownership of {}", def.key());
        }
    }

    /// Works while owning the version. Returns true on shutdown, false when ownership was lost.
    async fn run_owned(
        &self,
        def: Definition,
        mut ownership: Ownership,
        shutdown: &mut watch::Receiver<bool>,
    ) -> bool {
        let mut appended = self.store.subscribe();
        let mut run = RunState::default();
        let mut last_rate_write = Instant::now();
        loop {
            if *shutdown.borrow() {
                return true;
            }
            let progress = match self.step(def, &mut run).await {
                Ok(progress) => progress,
                Err(e) => {
                    tracing::warn!(error = %e, "projection {} step failed; retrying", def.key());
                    Progress::Idle
                }
            };
            if matches!(progress, Progress::Worked) {
                continue;
            }
            if last_rate_write.elapsed() > Duration::from_secs(5) {
                self.write_rate(def, run.rate.per_second()).await;
                last_rate_write = Instant::now();
            }
            if !ownership.still_held().await {
                return false;
            }
            tokio::select! {
                _ = appended.recv() => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
                _ = shutdown.changed() => return true,
            }
        }
    }

    async fn write_rate(&self, def: Definition, rate: f64) {
        let _ = sqlx::query(
            "UPDATE projection_versions SET rate_per_sec = $1 WHERE name = $2 AND version = $3",
        )
        .bind(rate)
        .bind(def.name())
        .bind(def.version())
        .execute(&self.db.pool)
        .await;
    }

    /// How many events to read after `from`: one at a time while narrowing down a failure.
    fn limit(&self, from: Position, narrow_until: &mut Option<Position>) -> i64 {
        match narrow_until {
            Some(until) if from < *until => 1,
            _ => {
                *narrow_until = None;
                self.batch_size
            }
        }
    }

    async fn step(&self, def: Definition, run: &mut RunState) -> Result<Progress, StepError> {
        let row = catalog::load(&self.db, def).await?;
        if row.failure.is_some() || row.state == VersionState::Retired {
            return Ok(Progress::Blocked);
        }
        let mut worked = false;
        let limit = self.limit(row.checkpoint, &mut run.narrow_main_until);
        let batch = self.store.read_all(row.checkpoint, limit).await?;
        if !batch.events.is_empty() {
            match self.apply_main(def, &row, &batch, &mut run.rate).await? {
                Ok(()) => worked = true,
                Err(e) => {
                    return self
                        .apply_failed(def, e, &batch, &mut run.narrow_main_until)
                        .await
                }
            }
        } else if row.state == VersionState::Building {
            self.caught_up(def).await?;
        }
        if let Some(rebuild) = &row.rebuild {
            let limit = self.limit(rebuild.checkpoint, &mut run.narrow_rebuild_until);
            let batch = self.store.read_all(rebuild.checkpoint, limit).await?;
            if batch.events.is_empty() {
                self.finish_rebuild(def, &row).await?;
            } else {
                match self.apply_rebuild(def, rebuild, &batch).await? {
                    Ok(()) => worked = true,
                    Err(e) => {
                        return self
                            .apply_failed(def, e, &batch, &mut run.narrow_rebuild_until)
                            .await
                    }
                }
            }
        }
        Ok(if worked {
            Progress::Worked
        } else {
            Progress::Idle
        })
    }

    /// A batch could not be applied. A passing database trouble is retried; otherwise the
    /// batch is retried one event per transaction until the event at fault is found, and the
    /// version is marked failed naming it.
    async fn apply_failed(
        &self,
        def: Definition,
        error: ApplyError,
        batch: &Batch,
        narrow_until: &mut Option<Position>,
    ) -> Result<Progress, StepError> {
        match error {
            ApplyError::Database(e) if super::is_transient(self.db.flavor, &e) => {
                Err(StepError::Database(e))
            }
            ApplyError::Database(_) if batch.events.len() > 1 => {
                *narrow_until = Some(batch.next);
                Ok(Progress::Worked)
            }
            ApplyError::Database(e) => {
                let event = &batch.events[0];
                self.fail(def, ApplyError::event(event, e.to_string()))
                    .await
            }
            event_error @ ApplyError::Event { .. } => self.fail(def, event_error).await,
        }
    }

    /// Applies a batch to the version's table and moves its checkpoint, in one transaction.
    async fn apply_main(
        &self,
        def: Definition,
        row: &VersionRow,
        batch: &Batch,
        rate: &mut RateWindow,
    ) -> Result<Result<(), ApplyError>, StepError> {
        let mut tx = self.db.begin().await?;
        if let Err(e) = def.apply(&mut tx, &row.physical_table, &batch.events).await {
            return Ok(Err(e));
        }
        let n = batch.events.len();
        rate.record(n);
        let last_event_at = batch.events.last().map(|e| time_text(e.recorded_at));
        let moved = sqlx::query(
            "UPDATE projection_versions
             SET checkpoint_tx = $1, checkpoint_seq = $2, events_applied = events_applied + $3,
                 last_event_at = $4, rate_per_sec = $5, owner_node = $6, updated_at = $7
             WHERE name = $8 AND version = $9 AND checkpoint_tx = $10 AND checkpoint_seq = $11",
        )
        .bind(batch.next.tx)
        .bind(batch.next.seq)
        .bind(n as i64)
        .bind(last_event_at)
        .bind(rate.per_second())
        .bind(self.node.clone())
        .bind(time_text(Utc::now()))
        .bind(def.name())
        .bind(def.version())
        .bind(row.checkpoint.tx)
        .bind(row.checkpoint.seq)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 1 {
            tx.commit().await?;
        } else {
            // Someone else moved the checkpoint: this batch is theirs. Roll back.
            tracing::warn!(
                "checkpoint of {} moved under us; batch discarded",
                def.key()
            );
        }
        Ok(Ok(()))
    }

    async fn apply_rebuild(
        &self,
        def: Definition,
        rebuild: &catalog::Rebuild,
        batch: &Batch,
    ) -> Result<Result<(), ApplyError>, StepError> {
        let mut tx = self.db.begin().await?;
        if let Err(e) = def.apply(&mut tx, &rebuild.table, &batch.events).await {
            return Ok(Err(e));
        }
        let moved = sqlx::query(
            "UPDATE projection_versions
             SET rebuild_tx = $1, rebuild_seq = $2, rebuild_done = rebuild_done + $3, updated_at = $4
             WHERE name = $5 AND version = $6 AND rebuild_table = $7 AND rebuild_tx = $8 AND rebuild_seq = $9",
        )
        .bind(batch.next.tx)
        .bind(batch.next.seq)
        .bind(batch.events.len() as i64)
        .bind(time_text(Utc::now()))
        .bind(def.name())
        .bind(def.version())
        .bind(rebuild.table.clone())
        .bind(rebuild.checkpoint.tx)
        .bind(rebuild.checkpoint.seq)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 1 {
            tx.commit().await?;
        }
        Ok(Ok(()))
    }

    /// The rebuilt table has caught up: it replaces the old one in one transaction, so readers
    /// go from the complete old rows to the complete new rows.
    async fn finish_rebuild(&self, def: Definition, row: &VersionRow) -> Result<(), StepError> {
        let Some(rebuild) = &row.rebuild else {
            return Ok(());
        };
        let mut tx = self.db.begin().await?;
        let swapped = sqlx::query(&format!(
            "UPDATE projection_versions
             SET physical_table = rebuild_table, checkpoint_tx = rebuild_tx, checkpoint_seq = rebuild_seq,
                 events_applied = rebuild_done, {}, updated_at = $1
             WHERE name = $2 AND version = $3 AND rebuild_table = $4",
            catalog::CLEAR_REBUILD
        ))
        .bind(time_text(Utc::now()))
        .bind(def.name())
        .bind(def.version())
        .bind(rebuild.table.clone())
        .execute(&mut *tx)
        .await?;
        if swapped.rows_affected() != 1 {
            return Ok(());
        }
        if row.physical_table != rebuild.table {
            let old = super::db::checked_table_name(&row.physical_table);
            sqlx::query(&format!("DROP TABLE IF EXISTS {old}"))
                .execute(&mut *tx)
                .await?;
        }
        let detail = format!("{} events applied into {}", rebuild.done, rebuild.table);
        catalog::audit(&mut tx, &self.node, "rebuild finished", def, &detail).await?;
        tx.commit().await?;
        tracing::info!("rebuild of {} finished: {detail}", def.key());
        Ok(())
    }

    async fn caught_up(&self, def: Definition) -> Result<(), StepError> {
        let mut tx = self.db.begin().await?;
        let changed = sqlx::query(
            "UPDATE projection_versions SET state = 'standby', updated_at = $1
             WHERE name = $2 AND version = $3 AND state = 'building'",
        )
        .bind(time_text(Utc::now()))
        .bind(def.name())
        .bind(def.version())
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 1 {
            catalog::audit(&mut tx, &self.node, "caught up", def, "building → standby").await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Marks the version failed with the error and the event that caused it. Only this version
    /// stops; an operator's retry resumes from its checkpoint.
    async fn fail(&self, def: Definition, error: ApplyError) -> Result<Progress, StepError> {
        let detail = error.to_string();
        let (seq, stream, event_type, message) = match error {
            ApplyError::Event {
                seq,
                stream_id,
                event_type,
                message,
            } => (Some(seq), Some(stream_id), Some(event_type), message),
            ApplyError::Database(e) => (None, None, None, e.to_string()),
        };
        tracing::error!("projection {} failed: {detail}", def.key());
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "UPDATE projection_versions
             SET error = $1, error_seq = $2, error_stream = $3, error_event_type = $4, failed_at = $5, updated_at = $5
             WHERE name = $6 AND version = $7 AND state <> 'retired'",
        )
        .bind(message.clone())
        .bind(seq)
        .bind(stream)
        .bind(event_type)
        .bind(time_text(Utc::now()))
        .bind(def.name())
        .bind(def.version())
        .execute(&mut *tx)
        .await?;
        catalog::audit(&mut tx, &self.node, "failed", def, &detail).await?;
        tx.commit().await?;
        Ok(Progress::Blocked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        let keys: Vec<i64> = Definition::ALL.iter().map(|d| lock_key(*d)).collect();
        assert_eq!(keys[0], lock_key(Definition::ShipmentBoardV1));
        let mut unique = keys.clone();
        unique.dedup();
        assert_eq!(unique.len(), keys.len());
    }
}
