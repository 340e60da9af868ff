//! What every database user shares: the database URL parsed once into a typed value, the one
//! classifier of passing database trouble, and the portable-SQL pool.
//!
//! Two pools reach the same database. The event store uses the typed driver of its backend
//! (`PgPool` or `SqlitePool`): its SQL differs per dialect where it must (gap-safe reads,
//! NOTIFY, write locks) and it is the hot path. The projection catalog, the read-model tables,
//! the audit and the node registry are written once in a portable subset of SQL (TEXT, BIGINT,
//! DOUBLE PRECISION; times as fixed-width UTC text) through sqlx's `Any` driver, so each is
//! one piece of code for both backends. Bulk writes that need dialect features can move to the
//! typed pools later without changing the tables.

use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Arguments, Transaction};
use std::collections::HashMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::sync::OwnedMutexGuard;

/// A database URL that has been checked: PostgreSQL or a SQLite file.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite { url: String, path: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported database URL {0:?} (expected postgres://… or sqlite:PATH)")]
pub struct UnsupportedUrl(pub String);

impl DatabaseUrl {
    pub const DEFAULT: &'static str = "sqlite:data/freightdesk.db";

    pub fn parse(url: &str) -> Result<Self, UnsupportedUrl> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_string()));
        }
        let Some(rest) = url.strip_prefix("sqlite:") else {
            return Err(UnsupportedUrl(url.to_string()));
        };
        let path = rest.trim_start_matches("//");
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() {
            return Err(UnsupportedUrl(url.to_string()));
        }
        Ok(Self::Sqlite {
            url: url.to_string(),
            path: PathBuf::from(path),
        })
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Postgres(url) | Self::Sqlite { url, .. } => url,
        }
    }

    pub fn flavor(&self) -> Flavor {
        match self {
            Self::Postgres(_) => Flavor::Postgres,
            Self::Sqlite { .. } => Flavor::Sqlite,
        }
    }

    /// The URL with any password replaced, for logs.
    pub fn redacted(&self) -> String {
        let url = self.as_str();
        match url_password_span(url) {
            Some((start, end)) => format!("{}***{}", &url[..start], &url[end..]),
            None => url.to_string(),
        }
    }

    /// Creates the SQLite file's folder, so a fresh checkout just works. Only `serve` and the
    /// commands that write call this: a command that only reads must not create a database.
    pub fn create_sqlite_dir(&self) -> std::io::Result<()> {
        if let Self::Sqlite { path, .. } = self {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn url_password_span(url: &str) -> Option<(usize, usize)> {
    let authority_start = url.find("://")? + 3;
    let authority_end = url[authority_start..]
        .find('/')
        .map_or(url.len(), |i| authority_start + i);
    let at = url[authority_start..authority_end].rfind('@')? + authority_start;
    let colon = url[authority_start..at].find(':')? + authority_start;
    Some((colon + 1, at))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Postgres,
    Sqlite,
}

/// True for errors that say the database is briefly unable to do the work (unreachable,
/// restarting, deadlock, lock timeout, busy), as opposed to a bug or bad data: trying again
/// later may succeed. The one classifier for the whole application.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => {
            let code = e.code().unwrap_or_default();
            if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLITE_BUSY and SQLITE_LOCKED, including their extended codes.
                code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
            } else {
                // PostgreSQL classes 08 connection, 40 rollback (deadlock, serialization),
                // 53 resources, 57 operator intervention (shutdown), 58 system; 55P03 lock timeout.
                ["08", "40", "53", "57", "58", "55P03"]
                    .iter()
                    .any(|class| code.starts_with(class))
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

/// The portable-SQL pool (see the module comment).
#[derive(Debug, Clone)]
pub struct PortableDb {
    pub pool: AnyPool,
    pub flavor: Flavor,
    /// SQLite only: this process's writers take turns here (see `WriteTurns`).
    turns: Option<WriteTurns>,
}

/// SQLite lets one transaction write at a time, and a writer that finds the lock taken sleeps
/// in growing steps (up to 100 ms) before it asks again: with a dozen writers that sleep, not
/// the work, made the tail. So every writer of this process (the event store's appends and
/// each portable write transaction) first waits for its turn here, in arrival order, and only
/// then asks SQLite for the lock, which it then almost always gets at once. Other processes
/// writing the same file still meet the busy timeout, as before.
#[derive(Debug, Clone)]
pub struct WriteTurns(Arc<tokio::sync::Mutex<()>>);

impl WriteTurns {
    /// The turns of the SQLite file at `path`: one queue per file per process.
    pub fn of(path: &std::path::Path) -> Self {
        static BY_FILE: LazyLock<Mutex<HashMap<PathBuf, WriteTurns>>> =
            LazyLock::new(Mutex::default);
        let key = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mut files = BY_FILE.lock().unwrap_or_else(|e| e.into_inner());
        files
            .entry(key)
            .or_insert_with(|| WriteTurns(Arc::default()))
            .clone()
    }

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
    flavor: Flavor,
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// Which SQL dialect this transaction speaks, for the few statements that differ.
    pub fn flavor(&self) -> Flavor {
        self.flavor
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

impl PortableDb {
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let flavor = url.flavor();
        // A PostgreSQL that went away answers "unavailable" within seconds; SQLite waits
        // longer, because there a slow acquire means writers queueing, not an outage.
        let acquire_timeout = match flavor {
            Flavor::Postgres => Duration::from_secs(5),
            Flavor::Sqlite => Duration::from_secs(30),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(acquire_timeout)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if flavor == Flavor::Sqlite {
                        // Same settings as the event store's own SQLite pool.
                        sqlx::query(&format!(
                            "PRAGMA busy_timeout = {}",
                            WriteTurns::PATIENCE.as_millis()
                        ))
                        .execute(&mut *conn)
                        .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url.as_str())
            .await?;
        let turns = match url {
            DatabaseUrl::Sqlite { path, .. } => Some(WriteTurns::of(path)),
            DatabaseUrl::Postgres(_) => None,
        };
        Ok(Self {
            pool,
            flavor,
            turns,
        })
    }

    /// A write transaction. On SQLite it takes the write lock up front, so it waits its turn
    /// instead of failing when it upgrades from reading to writing.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let turn = match &self.turns {
            Some(turns) => Some(turns.wait().await?),
            None => None,
        };
        let tx = match self.flavor {
            Flavor::Postgres => self.pool.begin().await?,
            Flavor::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
        };
        Ok(Tx {
            tx,
            _turn: turn,
            flavor: self.flavor,
        })
    }
}

/// A `SELECT` of the rows in parameter `$1`: a JSON array of objects keyed by the `columns`
/// of `table`. Many rows as one parameter keep the statement text the same whatever their
/// number, so it is prepared once and meets no parameter limit; both databases read JSON in C.
pub fn select_json_rows(flavor: Flavor, table: &TableName, columns: &[&str]) -> String {
    let list = columns.join(", ");
    match flavor {
        // The table's own row type gives every column its type.
        Flavor::Postgres => {
            format!("SELECT {list} FROM json_populate_recordset(NULL::{table}, $1::json)")
        }
        // `WHERE true` keeps a following `ON CONFLICT` from reading as a join constraint.
        Flavor::Sqlite => {
            let values: Vec<String> = columns.iter().map(|c| format!("value ->> '{c}'")).collect();
            format!("SELECT {} FROM json_each($1) WHERE true", values.join(", "))
        }
    }
}

/// `column` is one of the strings in parameter `$1`, a JSON array of strings (see
/// `select_json_rows`). On PostgreSQL the strings become an array first: `= ANY` of an array is
/// an index lookup per string whatever the planner guesses of their number, where `IN` of a
/// set-returning function was planned as a hash join over the whole table.
pub fn json_strings_contain(flavor: Flavor, column: &str) -> String {
    match flavor {
        Flavor::Postgres => {
            format!("{column} = ANY(ARRAY(SELECT json_array_elements_text($1::json)))")
        }
        Flavor::Sqlite => format!("{column} IN (SELECT value FROM json_each($1))"),
    }
}

/// A value that could not be written as JSON, as the database error sqlx would give for it.
pub fn encode_error(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(e))
}

/// Reads a column, naming it in the error.
pub fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T, sqlx::Error>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    use sqlx::Row;
    row.try_get(name)
}

/// Reads a time stored as text (see `time_text`); NULL is `None`.
pub fn time_col(
    row: &AnyRow,
    name: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, sqlx::Error> {
    col::<Option<String>>(row, name)?
        .map(|t| decode_time(&t))
        .transpose()
}

/// `parse_time` for a value read from a table: a bad one is a decode error.
pub fn decode_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, sqlx::Error> {
    parse_time(text).map_err(|e| sqlx::Error::Decode(e.into()))
}

/// The one text form of a time where it is stored as text (SQLite, portable tables):
/// fixed-width UTC, so text order is time order.
pub fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("bad time {text:?}: {e}"))
}

/// Builds portable SQL with numbered placeholders. sqlx's own `QueryBuilder` writes `?` for
/// the `Any` driver, which PostgreSQL refuses; this one writes `$1, $2, …`, which both accept,
/// and numbers them itself so no statement counts by hand.
pub struct SqlBuilder<'q> {
    sql: String,
    args: AnyArguments<'q>,
    count: usize,
}

impl<'q> Default for SqlBuilder<'q> {
    fn default() -> Self {
        Self::new("")
    }
}

impl<'q> SqlBuilder<'q> {
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            args: AnyArguments::default(),
            count: 0,
        }
    }

    pub fn push(&mut self, sql: impl fmt::Display) -> &mut Self {
        use fmt::Write;
        let _ = write!(self.sql, "{sql}");
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'q + sqlx::Encode<'q, Any> + sqlx::Type<Any>,
    {
        self.count += 1;
        // Encoding into AnyArguments only fails for types Any cannot carry; every type bound
        // here is one it can, and a failure surfaces when the query runs.
        if let Err(e) = self.args.add(value) {
            tracing::error!(error = %e, "cannot bind a query argument");
        }
        let n = self.count;
        self.push(format_args!("${n}"))
    }

    /// `a, b, c` with each bound.
    pub fn push_bind_list<T, I>(&mut self, values: I) -> &mut Self
    where
        I: IntoIterator<Item = T>,
        T: 'q + sqlx::Encode<'q, Any> + sqlx::Type<Any>,
    {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(value);
        }
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The finished statement with its arguments.
    pub fn build(self) -> (String, AnyArguments<'q>) {
        (self.sql, self.args)
    }
}

/// The name of a table that holds a projection version. Only registered projection names
/// make these, but one read back from the catalog is checked again before it goes into SQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a projection table name: {0:?}")]
pub struct BadTableName(pub String);

impl TableName {
    pub fn parse(name: &str) -> Result<Self, BadTableName> {
        let valid = !name.is_empty()
            && name.len() <= 63
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(Self(name.to_string()))
        } else {
            Err(BadTableName(name.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<BadTableName> for sqlx::Error {
    fn from(e: BadTableName) -> Self {
        sqlx::Error::Decode(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_once_into_a_backend() {
        let cases = [
            ("postgres://u@h/db", Some(Flavor::Postgres)),
            ("postgresql://u@h/db", Some(Flavor::Postgres)),
            ("sqlite:data/x.db", Some(Flavor::Sqlite)),
            ("sqlite://tmp/x.db?mode=rwc", Some(Flavor::Sqlite)),
            ("sqlite:", None),
            ("mysql://h/db", None),
            ("", None),
        ];
        for (url, want) in cases {
            assert_eq!(
                DatabaseUrl::parse(url).ok().map(|u| u.flavor()),
                want,
                "{url}"
            );
        }
        match DatabaseUrl::parse("sqlite://tmp/x.db?mode=rwc").unwrap() {
            DatabaseUrl::Sqlite { path, .. } => assert_eq!(path, PathBuf::from("tmp/x.db")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn passwords_are_redacted() {
        let cases = [
            (
                "postgres://u:secret@h:5432/db",
                "postgres://u:***@h:5432/db",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("postgres://h/db?x=a:b@c", "postgres://h/db?x=a:b@c"),
            ("sqlite:data/freightdesk.db", "sqlite:data/freightdesk.db"),
        ];
        for (input, want) in cases {
            assert_eq!(DatabaseUrl::parse(input).unwrap().redacted(), want);
        }
    }

    #[test]
    fn table_names_are_checked_without_panicking() {
        assert!(TableName::parse("shipment_board_v2_r1700000000000").is_ok());
        for bad in ["", "x; DROP TABLE events", "Board", "1abc", "a-b"] {
            assert!(TableName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut sql = SqlBuilder::new("SELECT * FROM t WHERE a = ");
        sql.push_bind("x".to_string())
            .push(" AND b IN (")
            .push_bind_list([1_i64, 2])
            .push(")");
        assert_eq!(sql.sql(), "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)");
    }
}
