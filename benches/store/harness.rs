//! What every figure shares: repeated runs, the median and the spread, the ratio to a baseline
//! measured in the same run, the part file `scripts/bench-report.py` merges, fresh databases,
//! and progress bars (drawn on a terminal only).

use freightdesk::database::Database;
use freightdesk::db::{DatabaseUrl, PortableDb, WriteTurns};
use freightdesk::store::EventStore;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use std::future::Future;
use std::path::Path;
use std::time::Duration;

/// The bench's own pool (see `Fresh::raw`). On SQLite its writers take turns of their own,
/// as the store's writers do, so neither side pays SQLite's busy sleeps.
#[derive(Clone)]
pub enum RawPool {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool, WriteTurns),
}

/// How big and how long: the full run, or QUICK=1 (everything small, under a minute).
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub quick: bool,
    /// Runs per figure (the median is reported).
    pub runs: usize,
    /// How long a throughput run lasts.
    pub window: Duration,
    pub contention_window: Duration,
    /// Events in the two rebuild sizes (memory must be the same at both).
    pub rebuild_small: u64,
    pub rebuild_large: u64,
    /// Shipments on the board for search and append-to-visible.
    pub board_shipments: u64,
    pub visible_commands: usize,
}

impl Scale {
    /// QUICK=1 for the small scale; BENCH_REBUILD_SIZES=50000,200000 overrides the two rebuild
    /// sizes (for a look at one figure without the full run).
    pub fn from_env() -> Self {
        let quick = std::env::var("QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let mut scale = Self::preset(quick);
        if let Ok(sizes) = std::env::var("BENCH_REBUILD_SIZES") {
            let sizes: Vec<u64> = sizes
                .split(',')
                .filter_map(|s| s.trim().parse().ok())
                .collect();
            if let [small, large] = sizes[..] {
                scale.rebuild_small = small;
                scale.rebuild_large = large;
            }
        }
        scale
    }

    fn preset(quick: bool) -> Self {
        if quick {
            Scale {
                quick,
                runs: 3,
                window: Duration::from_millis(300),
                contention_window: Duration::from_millis(600),
                rebuild_small: 2_000,
                rebuild_large: 10_000,
                board_shipments: 2_000,
                visible_commands: 40,
            }
        } else {
            Scale {
                quick,
                runs: 3,
                window: Duration::from_secs(3),
                contention_window: Duration::from_secs(10),
                rebuild_small: 200_000,
                rebuild_large: 1_000_000,
                board_shipments: 100_000,
                visible_commands: 1_000,
            }
        }
    }
}

/// The median of the samples (the mean of the two middle ones for an even count).
pub fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// The `q` quantile (0…1) by the nearest-rank method.
pub fn quantile(samples: &[f64], q: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or(f64::NAN)
}

/// Rounds for the report: three significant digits are all a benchmark can claim.
pub fn round(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let digits = 3 - x.abs().log10().floor() as i32 - 1;
    let factor = 10f64.powi(digits);
    (x * factor).round() / factor
}

/// How a figure compares with its target.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// value / baseline at least this.
    RatioAtLeast(f64),
    /// value at least this.
    AtLeast(f64),
    /// value below this.
    Below(f64),
    /// value / baseline at most this (memory that must stay flat).
    RatioAtMost(f64),
    /// A check that holds (1) or not (0).
    Holds,
    /// Context only.
    None,
}

/// One figure: its runs, and what it is compared with.
#[derive(Debug, Clone)]
pub struct Figure {
    pub item: u32,
    pub name: String,
    pub backend: &'static str,
    pub unit: &'static str,
    pub runs: Vec<f64>,
    pub baseline_name: Option<String>,
    pub baseline: Option<f64>,
    pub target: Target,
}

impl Figure {
    pub fn new(
        item: u32,
        name: impl Into<String>,
        backend: &'static str,
        unit: &'static str,
    ) -> Self {
        Figure {
            item,
            name: name.into(),
            backend,
            unit,
            runs: Vec::new(),
            baseline_name: None,
            baseline: None,
            target: Target::None,
        }
    }

    pub fn runs(mut self, runs: Vec<f64>) -> Self {
        self.runs = runs;
        self
    }

    pub fn against(mut self, name: impl Into<String>, baseline: f64) -> Self {
        self.baseline_name = Some(name.into());
        self.baseline = Some(baseline);
        self
    }

    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    pub fn value(&self) -> f64 {
        median(&self.runs)
    }

    pub fn to_json(&self) -> Value {
        let value = self.value();
        let ratio = self.baseline.filter(|b| *b != 0.0).map(|b| value / b);
        let (target, met) = match self.target {
            Target::RatioAtLeast(r) => (format!("≥ {r}× baseline"), ratio.map(|x| x >= r)),
            Target::RatioAtMost(r) => (format!("≤ {r}× baseline"), ratio.map(|x| x <= r)),
            Target::AtLeast(v) => (format!("≥ {v} {}", self.unit), Some(value >= v)),
            Target::Below(v) => (format!("< {v} {}", self.unit), Some(value < v)),
            Target::Holds => (
                "holds in every run".to_string(),
                Some(self.runs.iter().all(|r| *r == 1.0)),
            ),
            Target::None => ("context".to_string(), None),
        };
        let min = self.runs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.runs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        json!({
            "item": self.item,
            "name": self.name,
            "backend": self.backend,
            "value": round(value),
            "unit": self.unit,
            "baseline_name": self.baseline_name.clone().unwrap_or_default(),
            "baseline": self.baseline.map(round),
            "ratio": ratio.map(round),
            "target": target,
            "met": met,
            "runs": self.runs.iter().map(|r| round(*r)).collect::<Vec<_>>(),
            "spread": format!("{}–{}", round(min), round(max)),
        })
    }

    /// One line on the terminal as soon as a figure is known.
    pub fn print(&self) {
        let j = self.to_json();
        let ratio = j["ratio"]
            .as_f64()
            .map(|r| format!(" = {r}× {}", j["baseline_name"].as_str().unwrap_or("")))
            .unwrap_or_default();
        let met = match j["met"].as_bool() {
            Some(true) => " ✔",
            Some(false) => " ✘",
            None => "",
        };
        println!(
            "  [{}] {} {}: {} {} ({}){ratio}{met}",
            self.item,
            self.backend,
            self.name,
            j["value"],
            self.unit,
            j["spread"].as_str().unwrap_or("")
        );
    }
}

/// Runs `once` `n` times and collects what each run measured.
pub async fn repeat<F, Fut>(n: usize, mut once: F) -> Vec<f64>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = f64>,
{
    let mut runs = Vec::with_capacity(n);
    for i in 0..n {
        runs.push(once(i).await);
    }
    runs
}

/// Writes the part file `scripts/bench-report.py` merges.
pub fn write_part(path: &Path, part: &str, figures: &[Figure], machine: Value) {
    let body = json!({
        "part": part,
        "machine": machine,
        "figures": figures.iter().map(Figure::to_json).collect::<Vec<_>>(),
    });
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create the parts folder");
    }
    std::fs::write(path, serde_json::to_string_pretty(&body).expect("json"))
        .expect("write the part");
}

/// A progress bar with rate and ETA; indicatif draws nothing when stderr is not a terminal.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "  {msg:28} [{bar:30}] {human_pos}/{human_len} {per_sec} ETA {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// A database of the backend that nobody else uses; PostgreSQL ones are dropped at the end.
pub struct Fresh {
    pub url: DatabaseUrl,
    pub backend: &'static str,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Fresh {
    pub async fn postgres(admin_url: &str) -> Self {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL at {admin_url} is not answering ({e}); run `make pg-up`")
            });
        let name = format!("fd_bench_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create the bench database");
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
        Fresh {
            url: DatabaseUrl::parse(&format!("{base}/{name}")).expect("url"),
            backend: "postgres",
            admin: Some((admin_url.to_string(), name)),
            _dir: None,
        }
    }

    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("bench.db").display());
        Fresh {
            url: DatabaseUrl::parse(&url).expect("url"),
            backend: "sqlite",
            admin: None,
            _dir: Some(dir),
        }
    }

    pub async fn connect(&self) -> (EventStore, PortableDb) {
        let Database { store, db } = Database::open(&self.url).await.expect("open the database");
        (store, db)
    }

    /// A pool of the bench's own on the same database, for the baselines (plain INSERT, bulk
    /// reads), which must not go through freightdesk.
    pub async fn raw(&self) -> RawPool {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                RawPool::Postgres(sqlx::PgPool::connect(url).await.expect("a raw pool"))
            }
            DatabaseUrl::Sqlite { url, .. } => {
                use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
                use std::str::FromStr;
                // The store's own settings, so the baseline pays what the store pays.
                let options = SqliteConnectOptions::from_str(url)
                    .expect("url")
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(WriteTurns::PATIENCE);
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(8)
                    .connect_with(options)
                    .await
                    .expect("a raw pool");
                RawPool::Sqlite(pool, WriteTurns::default())
            }
        }
    }

    /// Drops a PostgreSQL database (a temp SQLite file goes with its folder).
    pub async fn drop_database(self) {
        use sqlx::Connection;
        if let Some((admin_url, name)) = &self.admin {
            if let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await {
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                if let Err(e) = sqlx::query(&sql).execute(&mut admin).await {
                    eprintln!("could not drop {name}: {e}");
                }
            }
        }
    }
}
