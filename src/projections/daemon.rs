//! The projection daemon. For every version this node may run, it takes the lease (see
//! `lease`), then reads the log after the version's checkpoint, applies each batch and
//! advances the checkpoint in the same transaction. The checkpoint update is itself
//! conditional on the old checkpoint, so even a node that lost its lease without noticing
//! cannot apply a batch twice. It only orchestrates: the SQL lives in `versions`, `audit`,
//! `nodes`, `samples` and the projections.

use super::board::SearchUpkeep;
use super::lifecycle::{AuditAction, VersionState};
use super::samples::{self, Sample};
use super::tables::ApplyError;
use super::versions::{self, Advance, Failure, Rebuild, VersionRow};
use super::{audit, nodes, operator, rollout, skips, Definition};
use crate::db::{is_transient, PortableDb};
use crate::lease::{self, ExclusiveWork};
use crate::store::{Batch, Checkpoint, EventStore, StoreError};
use crate::time::Clock;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Events per transaction unless configured otherwise.
pub const DEFAULT_BATCH_SIZE: i64 = 500;
/// A rebuild reads this many times the batch size per transaction: it is far behind by
/// definition, folds a whole batch in memory and writes each changed row once, so fewer and
/// larger transactions are faster, while memory stays bounded by the batch.
const REBUILD_BATCH_FACTOR: i64 = 10;

#[derive(Clone)]
pub struct Daemon {
    store: EventStore,
    db: PortableDb,
    node: String,
    capabilities: Vec<Definition>,
    batch_size: i64,
    /// "Now" for samples and the registry, and how often to poll, sample and heartbeat.
    clock: Clock,
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
    /// After a batch failed: how many of the next events to apply one per transaction, so
    /// the failure names the exact event (and events before it are not held back by it).
    narrow_main: usize,
    narrow_rebuild: usize,
    /// A rebuild reads its next batch while it applies the current one, so the database's
    /// work and ours overlap: the read that starts at this checkpoint, under way.
    rebuild_read_ahead: Option<(Checkpoint, JoinHandle<Result<Batch, StoreError>>)>,
}

impl Drop for RunState {
    fn drop(&mut self) {
        if let Some((_, read)) = self.rebuild_read_ahead.take() {
            read.abort();
        }
    }
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

/// The batch without the events skipped for this version. Its `next` checkpoint stays where
/// the read ended, so the checkpoint moves past a skipped event too.
fn without(mut batch: Batch, skipped: &std::collections::HashSet<i64>) -> Batch {
    if !skipped.is_empty() {
        batch.events.retain(|e| !skipped.contains(&e.position.seq));
    }
    batch
}

/// One version as the lease loop runs it: a step is a sample when one is due, then a batch.
struct VersionTask {
    daemon: Daemon,
    def: Definition,
    run: RunState,
    last_sample: Option<Instant>,
}

impl ExclusiveWork for VersionTask {
    type Error = StepError;

    fn key(&self) -> i64 {
        lease::lock_key_for(&format!("projection:{}", self.def.key()))
    }

    fn name(&self) -> String {
        self.def.key()
    }

    async fn set_owner(&self, owner: Option<&str>) {
        self.daemon.set_owner(self.def, owner).await
    }

    /// A new owner starts from what the database says, not from what it remembered.
    fn start_owning(&mut self) {
        self.run = RunState::default();
        self.last_sample = None;
    }

    async fn step(&mut self) -> Result<lease::Progress, StepError> {
        // By elapsed time at the top, so a version busy catching up is sampled too.
        let intervals = self.daemon.clock.intervals;
        if self
            .last_sample
            .is_none_or(|t| t.elapsed() >= intervals.projection_sample)
        {
            self.daemon.sample(self.def, &mut self.run.rate).await;
            self.last_sample = Some(Instant::now());
        }
        Ok(match self.daemon.step(self.def, &mut self.run).await? {
            Progress::Worked => lease::Progress::Worked,
            Progress::Idle | Progress::Blocked => lease::Progress::Idle(intervals.projection_poll),
        })
    }

    fn retry_after(&self) -> Duration {
        self.daemon.clock.intervals.projection_poll
    }
}

impl Daemon {
    pub fn new(
        store: EventStore,
        db: PortableDb,
        node: String,
        capabilities: Vec<Definition>,
    ) -> Self {
        Self {
            store,
            db,
            node,
            capabilities,
            batch_size: DEFAULT_BATCH_SIZE,
            clock: Clock::system(),
        }
    }

    /// Reads "now" and the poll, sample and heartbeat intervals from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How many events each transaction applies (smaller: finer progress, more commits).
    pub fn with_batch_size(mut self, batch_size: i64) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Registers this node's versions and starts one task per version plus the heartbeat.
    pub async fn start(self) -> Result<DaemonHandle, sqlx::Error> {
        for def in &self.capabilities {
            operator::register(&self.db, *def).await?;
        }
        let (shutdown, _) = watch::channel(false);
        let mut tasks = vec![tokio::spawn(self.clone().heartbeat(shutdown.subscribe()))];
        for def in self.capabilities.clone() {
            let task = VersionTask {
                daemon: self.clone(),
                def,
                run: RunState::default(),
                last_sample: None,
            };
            tasks.push(tokio::spawn(lease::run_exclusively(
                self.store.clone(),
                self.node.clone(),
                task,
                shutdown.subscribe(),
            )));
        }
        tracing::info!(node = %self.node, versions = ?self.capabilities.iter().map(Definition::key).collect::<Vec<_>>(), "projection daemon started");
        Ok(DaemonHandle { shutdown, tasks })
    }

    async fn heartbeat(self, mut shutdown: watch::Receiver<bool>) {
        let started_at = self.clock.now();
        let capabilities: Vec<String> = self.capabilities.iter().map(Definition::key).collect();
        let capabilities = capabilities.join(",");
        loop {
            if let Err(e) = nodes::heartbeat(&self.db, &self.node, &capabilities, started_at).await
            {
                tracing::warn!(error = %e, "heartbeat failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.clock.intervals.projection_heartbeat) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    async fn set_owner(&self, def: Definition, owner: Option<&str>) {
        if let Err(e) = versions::set_owner(&self.db, def, owner).await {
            tracing::warn!(error = %e, "cannot record the owner of {}", def.key());
        }
    }

    /// Records the version's lag and rate for the operators' charts, and the rate on its row
    /// (which otherwise only moves when a batch is applied, so it would never fall to zero).
    /// Trouble here only costs a point on a chart: it is logged, never fatal.
    async fn sample(&self, def: Definition, rate: &mut RateWindow) {
        let events_per_sec = rate.per_second();
        let result = async {
            versions::set_rate(&self.db, def, events_per_sec).await?;
            let checkpoint = versions::load(&self.db, def).await?.checkpoint;
            let (lag_events, _) = self.store.backlog(&checkpoint).await?;
            let sample = Sample {
                at: self.clock.now(),
                lag_events,
                events_per_sec,
            };
            samples::record(&self.db, def, &sample).await?;
            Ok::<_, StepError>(())
        };
        if let Err(e) = result.await {
            tracing::warn!(error = %e, "cannot sample the lag and rate of {}", def.key());
        }
    }

    /// How many events to read: one at a time while narrowing down a failure.
    fn limit(narrow: &mut usize, batch_size: i64) -> i64 {
        if *narrow > 0 {
            *narrow -= 1;
            1
        } else {
            batch_size
        }
    }

    async fn step(&self, def: Definition, run: &mut RunState) -> Result<Progress, StepError> {
        let row = versions::load(&self.db, def).await?;
        if row.failure.is_some() && row.state == VersionState::Live {
            // Readers are still on this failed version: no standby was caught up when it failed
            // (it may have been applying the very same event). Try again until one is.
            self.roll_back_if_possible(def).await;
            return Ok(Progress::Blocked);
        }
        if row.failure.is_some() || !row.state.is_maintained() {
            return Ok(Progress::Blocked);
        }
        // Events an admin skipped for this version are left out of every batch it applies.
        let skipped = skips::seqs(&self.db, def).await?;
        let mut worked = false;
        let limit = Self::limit(&mut run.narrow_main, self.batch_size);
        let batch = self.store.read_all(&row.checkpoint, limit).await?;
        if !batch.events.is_empty() {
            let batch = without(batch, &skipped);
            match self.apply_main(def, &row, &batch, &mut run.rate).await? {
                Ok(()) => worked = true,
                Err(e) => {
                    return self
                        .apply_failed(def, e, &batch, &mut run.narrow_main)
                        .await
                }
            }
        } else if row.state == VersionState::Building {
            self.caught_up(def).await?;
        }
        if let Some(rebuild) = &row.rebuild {
            let limit = Self::limit(
                &mut run.narrow_rebuild,
                self.batch_size * REBUILD_BATCH_FACTOR,
            );
            let batch = self
                .read_rebuild_batch(run, &rebuild.checkpoint, limit)
                .await?;
            if batch.events.is_empty() {
                self.finish_rebuild(def, &row, rebuild).await?;
            } else {
                let batch = without(batch, &skipped);
                if run.narrow_rebuild == 0 {
                    let store = self.store.clone();
                    let next = batch.next.clone();
                    let from = next.clone();
                    let read = tokio::spawn(async move { store.read_all(&from, limit).await });
                    run.rebuild_read_ahead = Some((next, read));
                }
                match self.apply_rebuild(def, rebuild, &batch).await? {
                    Ok(()) => worked = true,
                    Err(e) => {
                        return self
                            .apply_failed(def, e, &batch, &mut run.narrow_rebuild)
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

    /// The rebuild's batch after `from`: the one read ahead if it starts there (reading is
    /// all it did, so it is as good as a fresh read), else a fresh read.
    async fn read_rebuild_batch(
        &self,
        run: &mut RunState,
        from: &Checkpoint,
        limit: i64,
    ) -> Result<Batch, StoreError> {
        if let Some((at, read)) = run.rebuild_read_ahead.take() {
            if at == *from && limit > 1 {
                if let Ok(batch) = read.await {
                    return batch;
                }
            } else {
                read.abort();
            }
        }
        self.store.read_all(from, limit).await
    }

    /// A batch could not be applied. A passing database trouble is retried; otherwise the
    /// batch is retried one event per transaction until the event at fault is found, and the
    /// version is marked failed naming it.
    async fn apply_failed(
        &self,
        def: Definition,
        error: ApplyError,
        batch: &Batch,
        narrow: &mut usize,
    ) -> Result<Progress, StepError> {
        match (error, batch.events.first()) {
            (ApplyError::Database(e), _) if is_transient(&e) => Err(StepError::Database(e)),
            (ApplyError::Database(_), _) if batch.events.len() > 1 => {
                *narrow = batch.events.len();
                Ok(Progress::Worked)
            }
            (ApplyError::Database(e), Some(event)) => {
                self.fail(def, ApplyError::event(event, e.to_string()))
                    .await
            }
            (error, _) => self.fail(def, error).await,
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
        let search = SearchUpkeep::RowByRow;
        if let Err(e) = def
            .apply(&mut tx, &row.physical_table, search, &batch.events)
            .await
        {
            return Ok(Err(e));
        }
        rate.record(batch.events.len());
        let advance = Advance {
            from: &row.checkpoint,
            to: &batch.next,
            events: batch.events.len() as i64,
            last_event_at: batch.events.last().map(|e| e.recorded_at),
            rate: rate.per_second(),
            node: &self.node,
        };
        if versions::advance(&mut tx, def, advance).await? {
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
        rebuild: &Rebuild,
        batch: &Batch,
    ) -> Result<Result<(), ApplyError>, StepError> {
        let mut tx = self.db.begin().await?;
        let search = SearchUpkeep::AtTheEnd;
        if let Err(e) = def
            .apply(&mut tx, &rebuild.table, search, &batch.events)
            .await
        {
            return Ok(Err(e));
        }
        let n = batch.events.len() as i64;
        if versions::advance_rebuild(&mut tx, def, rebuild, &batch.next, n).await? {
            tx.commit().await?;
        }
        Ok(Ok(()))
    }

    /// The rebuilt table has caught up: it replaces the old one in one transaction, so readers
    /// go from the complete old rows to the complete new rows.
    async fn finish_rebuild(
        &self,
        def: Definition,
        row: &VersionRow,
        rebuild: &Rebuild,
    ) -> Result<(), StepError> {
        let mut tx = self.db.begin().await?;
        if !versions::finish_rebuild(&mut tx, def, &rebuild.table).await? {
            return Ok(());
        }
        def.complete_table(&mut tx, &rebuild.table).await?;
        if row.physical_table != rebuild.table {
            def.drop_table(&mut tx, &row.physical_table).await?;
        }
        let detail = format!("{} events applied into {}", rebuild.done, rebuild.table);
        audit::record(
            &mut tx,
            &self.node,
            AuditAction::RebuildFinished,
            def,
            &detail,
        )
        .await?;
        tx.commit().await?;
        tracing::info!("rebuild of {} finished: {detail}", def.key());
        Ok(())
    }

    async fn caught_up(&self, def: Definition) -> Result<(), StepError> {
        let mut tx = self.db.begin().await?;
        if versions::mark_caught_up(&mut tx, def).await? {
            let detail = format!("{} → {}", VersionState::Building, VersionState::Standby);
            audit::record(&mut tx, &self.node, AuditAction::CaughtUp, def, &detail).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Marks the version failed with the error and the event that caused it. Only this version
    /// stops; an operator's retry resumes from its checkpoint.
    async fn fail(&self, def: Definition, error: ApplyError) -> Result<Progress, StepError> {
        let detail = error.to_string();
        let failure = match error {
            ApplyError::Event {
                seq,
                stream_id,
                event_type,
                message,
            } => Failure {
                error: message,
                event_seq: Some(seq),
                stream_id: Some(stream_id),
                event_type: Some(event_type),
                at: None,
            },
            ApplyError::Database(e) => Failure {
                error: e.to_string(),
                event_seq: None,
                stream_id: None,
                event_type: None,
                at: None,
            },
        };
        tracing::error!("projection {} failed: {detail}", def.key());
        let mut tx = self.db.begin().await?;
        versions::fail(&mut tx, def, &failure).await?;
        audit::record(&mut tx, &self.node, AuditAction::Failed, def, &detail).await?;
        tx.commit().await?;
        // Reads must not stay on a broken version: go back to the previous one if allowed.
        self.roll_back_if_possible(def).await;
        Ok(Progress::Blocked)
    }

    async fn roll_back_if_possible(&self, def: Definition) {
        if let Err(e) = rollout::roll_back_automatically(&self.db, &self.store, def).await {
            tracing::error!(error = %e, "automatic rollback of {} failed", def.key());
        }
    }
}
