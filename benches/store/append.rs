//! Items 1 and 2: the version-checked append and the whole command path beside a plain
//! single-row INSERT of the same JSON into a table of the same shape, at 1 and 16 writers on
//! distinct streams; then 16 writers on one stream through the retry helper.

use crate::harness::RawPool;
use crate::harness::{Figure, Scale, Target};
use freightdesk::domain::{PlaceName, ShipmentCommand, ShipmentId};
use freightdesk::store::shipments::{
    execute, execute_counting_attempts, CommandContext, CommandError,
};
use freightdesk::store::{EventMetadata, EventStore, ExpectedVersion, NewEvent};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const PLAIN_TABLE_PG: &str = "CREATE TABLE bench_plain (
    seq bigserial PRIMARY KEY, id uuid NOT NULL UNIQUE, stream_id uuid NOT NULL,
    version bigint NOT NULL, event_type text NOT NULL, schema_version integer NOT NULL,
    data jsonb NOT NULL, metadata jsonb NOT NULL, recorded_at timestamptz NOT NULL,
    tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(), UNIQUE (stream_id, version))";
const PLAIN_INDEX_PG: &str = "CREATE INDEX bench_plain_tx_seq ON bench_plain (tx_id, seq)";
const PLAIN_TABLE_SQLITE: &str = "CREATE TABLE bench_plain (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL,
    version INTEGER NOT NULL, event_type TEXT NOT NULL, schema_version INTEGER NOT NULL,
    data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL,
    UNIQUE (stream_id, version))";

fn location(at: chrono::DateTime<chrono::Utc>) -> ShipmentCommand {
    ShipmentCommand::RecordLocation {
        location: PlaceName::parse("location", "Basel").expect("valid"),
        position: None,
        notes: None,
        at,
    }
}

/// The JSON both the plain INSERT and the append write: a location report.
fn payload() -> (NewEvent, EventMetadata) {
    let event = NewEvent {
        event_type: "LocationRecorded".into(),
        schema_version: 2,
        data: serde_json::json!({"location": "Basel", "lat": null, "lon": null,
                                 "recorded_at": "2026-11-28T10:00:00Z", "notes": null}),
    };
    let metadata = EventMetadata {
        actor: "bench".into(),
        correlation_id: Uuid::new_v4(),
        causation_id: None,
        command: "RecordLocation".into(),
    };
    (event, metadata)
}

/// Runs each operation in its own task, over and over until the window closes. Returns
/// operations per second, all tasks together.
async fn throughput(ops: Vec<Op>, window: Duration) -> f64 {
    let started = Instant::now();
    let deadline = started + window;
    let tasks: Vec<_> = ops
        .into_iter()
        .map(|mut op| {
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    op().await;
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("writer");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

type Op =
    Box<dyn FnMut() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send>;

/// One plain single-row INSERT per operation (on SQLite in a `BEGIN IMMEDIATE` transaction,
/// taking the same in-process write turns as every writer of the store, so neither side pays
/// SQLite's busy sleeps).
fn plain_insert(raw: &RawPool) -> Op {
    let (event, metadata) = payload();
    let metadata = serde_json::to_value(metadata).expect("json");
    let stream = Uuid::new_v4();
    let version = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let raw = raw.clone();
    Box::new(move || {
        let (raw, event, metadata, version) = (
            raw.clone(),
            event.clone(),
            metadata.clone(),
            version.clone(),
        );
        Box::pin(async move {
            let v = version.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            match &raw {
                RawPool::Postgres(pool) => {
                    sqlx::query(
                    "INSERT INTO bench_plain (id, stream_id, version, event_type, schema_version, data, metadata, recorded_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(Uuid::new_v4())
                .bind(stream)
                .bind(v)
                .bind(&event.event_type)
                .bind(event.schema_version)
                .bind(&event.data)
                .bind(&metadata)
                .bind(chrono::Utc::now())
                .execute(pool)
                .await
                .expect("plain insert");
                }
                RawPool::Sqlite(pool, turns) => {
                    let _turn = turns.wait().await.expect("a turn to write");
                    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
                    sqlx::query(
                    "INSERT INTO bench_plain (id, stream_id, version, event_type, schema_version, data, metadata, recorded_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(Uuid::new_v4().to_string())
                .bind(stream.to_string())
                .bind(v)
                .bind(&event.event_type)
                .bind(event.schema_version)
                .bind(event.data.to_string())
                .bind(metadata.to_string())
                .bind(freightdesk::db::time_text(chrono::Utc::now()))
                .execute(&mut *tx)
                .await
                .expect("plain insert");
                    tx.commit().await.expect("commit");
                }
            }
        })
    })
}

/// One version-checked append of one event per operation, through the store's public append.
async fn append(store: &EventStore) -> Op {
    let (event, metadata) = payload();
    let stream = Uuid::new_v4();
    let first = store
        .append_with_expected_version(
            stream,
            "Bench",
            ExpectedVersion::NoStream,
            std::slice::from_ref(&event),
            &metadata,
        )
        .await
        .expect("create stream");
    let version = Arc::new(std::sync::atomic::AtomicI64::new(first.version));
    let store = store.clone();
    Box::new(move || {
        let (store, event, metadata, version) = (
            store.clone(),
            event.clone(),
            metadata.clone(),
            version.clone(),
        );
        Box::pin(async move {
            let v = version.load(std::sync::atomic::Ordering::Relaxed);
            let a = store
                .append_with_expected_version(
                    stream,
                    "Bench",
                    ExpectedVersion::Exactly(v),
                    &[event],
                    &metadata,
                )
                .await
                .expect("append");
            version.store(a.version, std::sync::atomic::Ordering::Relaxed);
        })
    })
}

/// A shipment in transit, ready for location reports; returns its id and version.
async fn shipment_in_transit(store: &EventStore) -> (ShipmentId, i64) {
    let id = ShipmentId::generate();
    let ctx = CommandContext::new("bench");
    let now = chrono::Utc::now();
    let schedule = ShipmentCommand::Schedule {
        shipment_id: id,
        origin: PlaceName::parse("origin", "Rotterdam").expect("valid"),
        destination: PlaceName::parse("destination", "Milan").expect("valid"),
        pickup_planned_at: now,
    };
    let a = execute(store, id, ExpectedVersion::NoStream, &schedule, &ctx)
        .await
        .expect("schedule");
    let a = execute(
        store,
        id,
        ExpectedVersion::Exactly(a.version),
        &ShipmentCommand::PickUp { at: now },
        &ctx,
    )
    .await
    .expect("pick up");
    (id, a.version)
}

/// The whole command path per operation: load (from this process's recent state when it has
/// it, as the server does), decide, append.
async fn command(store: &EventStore) -> Op {
    let (id, version) = shipment_in_transit(store).await;
    let version = Arc::new(std::sync::atomic::AtomicI64::new(version));
    let store = store.clone();
    Box::new(move || {
        let (store, version) = (store.clone(), version.clone());
        Box::pin(async move {
            let v = version.load(std::sync::atomic::Ordering::Relaxed);
            let ctx = CommandContext::new("bench");
            let a = execute(
                &store,
                id,
                ExpectedVersion::Exactly(v),
                &location(chrono::Utc::now()),
                &ctx,
            )
            .await
            .expect("command");
            version.store(a.version, std::sync::atomic::Ordering::Relaxed);
        })
    })
}

/// The command path loading from the database every time (snapshot + tail), as a process
/// that did not write the stream last does.
async fn command_loading(store: &EventStore) -> Op {
    let (id, _) = shipment_in_transit(store).await;
    let store = store.clone();
    Box::new(move || {
        let store = store.clone();
        Box::pin(async move {
            let ctx = CommandContext::new("bench");
            execute_counting_attempts(&store, id, &location(chrono::Utc::now()), &ctx, 1)
                .await
                .expect("command");
        })
    })
}

pub async fn item1(
    store: &EventStore,
    raw: &RawPool,
    backend: &'static str,
    scale: Scale,
) -> Vec<Figure> {
    match raw {
        RawPool::Postgres(pool) => {
            sqlx::query(PLAIN_TABLE_PG)
                .execute(pool)
                .await
                .expect("plain table");
            sqlx::query(PLAIN_INDEX_PG)
                .execute(pool)
                .await
                .expect("plain index");
        }
        RawPool::Sqlite(pool, _) => {
            sqlx::query(PLAIN_TABLE_SQLITE)
                .execute(pool)
                .await
                .expect("plain table");
        }
    }
    let mut figures = Vec::new();
    for writers in [1usize, 16] {
        let mut runs: HashMap<&str, Vec<f64>> = HashMap::new();
        for _ in 0..scale.runs {
            // Interleaved, so a slow moment of the machine hits all four alike.
            let mut ops: [Vec<Op>; 4] = Default::default();
            for _ in 0..writers {
                ops[0].push(plain_insert(raw));
                ops[1].push(append(store).await);
                ops[2].push(command(store).await);
                ops[3].push(command_loading(store).await);
            }
            let [plain, appends, commands, loading] = ops;
            let plain = throughput(plain, scale.window).await;
            let appended = throughput(appends, scale.window).await;
            let commands = throughput(commands, scale.window).await;
            let loading = throughput(loading, scale.window).await;
            for (k, v) in [
                ("plain", plain),
                ("append", appended),
                ("command", commands),
                ("loading", loading),
            ] {
                runs.entry(k).or_default().push(v);
            }
        }
        let w = if writers == 1 {
            "1 writer".to_string()
        } else {
            format!("{writers} writers")
        };
        let baseline = Figure::new(1, format!("plain INSERT, {w}"), backend, "inserts/s")
            .runs(runs["plain"].clone());
        let base = baseline.value();
        let base_name = format!("plain INSERT, {w}");
        figures.push(baseline);
        figures.push(
            Figure::new(1, format!("append, {w}"), backend, "appends/s")
                .runs(runs["append"].clone())
                .against(&base_name, base)
                .target(Target::RatioAtLeast(0.9)),
        );
        figures.push(
            Figure::new(1, format!("command path, {w}"), backend, "commands/s")
                .runs(runs["command"].clone())
                .against(&base_name, base)
                .target(Target::RatioAtLeast(0.75)),
        );
        figures.push(
            Figure::new(
                1,
                format!("command path loading from the database, {w}"),
                backend,
                "commands/s",
            )
            .runs(runs["loading"].clone())
            .against(&base_name, base),
        );
    }
    for f in &figures {
        f.print();
    }
    figures
}

/// What one contention run saw.
struct Contention {
    successes: f64,
    conflicts: f64,
    holds: bool,
}

async fn contention_run(store: &EventStore, window: Duration) -> Contention {
    let (id, start_version) = shipment_in_transit(store).await;
    let started = Instant::now();
    let deadline = started + window;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let (mut ok, mut conflicts, mut ids) = (0u64, 0u64, Vec::new());
                while Instant::now() < deadline {
                    let ctx = CommandContext::new("bench");
                    match execute_counting_attempts(
                        &store,
                        id,
                        &location(chrono::Utc::now()),
                        &ctx,
                        1000,
                    )
                    .await
                    {
                        Ok((_, attempts)) => {
                            ok += 1;
                            conflicts += u64::from(attempts - 1);
                            ids.push(ctx.correlation_id);
                        }
                        Err(CommandError::Conflict(_)) => conflicts += 1000,
                        Err(e) => panic!("contention: {e}"),
                    }
                }
                (ok, conflicts, ids)
            })
        })
        .collect();
    let (mut ok, mut conflicts, mut ids) = (0, 0, Vec::new());
    for task in tasks {
        let (o, c, i) = task.await.expect("writer");
        ok += o;
        conflicts += c;
        ids.extend(i);
    }
    let secs = started.elapsed().as_secs_f64();
    // Every success is stored exactly once, and the versions have no hole and no repeat.
    let events = store.read_stream(id.as_uuid(), 0).await.expect("read");
    let contiguous = events
        .iter()
        .enumerate()
        .all(|(i, e)| e.version == i as i64 + 1);
    let mut stored: HashMap<Uuid, u32> = HashMap::new();
    for e in events.iter().filter(|e| e.version > start_version) {
        *stored.entry(e.metadata.correlation_id).or_default() += 1;
    }
    let once = ids.len() == stored.len() && ids.iter().all(|c| stored.get(c) == Some(&1));
    Contention {
        successes: ok as f64 / secs,
        conflicts: conflicts as f64 / secs,
        holds: contiguous && once && events.len() as i64 == start_version + ok as i64,
    }
}

pub async fn item2(store: &EventStore, backend: &'static str, scale: Scale) -> Vec<Figure> {
    let mut runs = Vec::new();
    for _ in 0..scale.runs {
        runs.push(contention_run(store, scale.contention_window).await);
    }
    let pick = |f: &dyn Fn(&Contention) -> f64| runs.iter().map(f).collect::<Vec<_>>();
    let figures = vec![
        Figure::new(
            2,
            "16 writers on one stream: successes",
            backend,
            "commands/s",
        )
        .runs(pick(&|c| c.successes)),
        Figure::new(
            2,
            "16 writers on one stream: conflicts",
            backend,
            "conflicts/s",
        )
        .runs(pick(&|c| c.conflicts)),
        Figure::new(
            2,
            "16 writers on one stream: retries per success",
            backend,
            "retries",
        )
        .runs(pick(&|c| c.conflicts / c.successes.max(f64::MIN_POSITIVE))),
        Figure::new(
            2,
            "versions contiguous, each success stored once",
            backend,
            "",
        )
        .runs(pick(&|c| f64::from(u8::from(c.holds))))
        .target(Target::Holds),
    ];
    for f in &figures {
        f.print();
    }
    figures
}
