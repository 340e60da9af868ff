//! Projection tables use one portable subset of SQL (TEXT, BIGINT, DOUBLE PRECISION; times as
//! fixed-width UTC text) so each projection is written once for both backends, through sqlx's
//! `Any` driver. Placeholders are `$1, $2, …` in order of first use, which SQLite also accepts.

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Transaction};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Postgres,
    Sqlite,
}

#[derive(Debug, Clone)]
pub struct ProjectionDb {
    pub pool: AnyPool,
    pub flavor: Flavor,
}

pub type Tx = Transaction<'static, Any>;

impl ProjectionDb {
    pub async fn connect(database_url: &str) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let flavor = if database_url.starts_with("sqlite:") {
            Flavor::Sqlite
        } else {
            Flavor::Postgres
        };
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if flavor == Flavor::Sqlite {
                        // Same settings as the event store's own SQLite pool.
                        sqlx::query("PRAGMA busy_timeout = 30000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(database_url)
            .await?;
        Ok(Self { pool, flavor })
    }

    /// A write transaction. On SQLite it takes the write lock up front, so it waits its turn
    /// instead of failing when it upgrades from reading to writing.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.flavor {
            Flavor::Postgres => self.pool.begin().await,
            Flavor::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
        }
    }
}

/// Reads a column, naming it in the error.
pub fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T, sqlx::Error>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    use sqlx::Row;
    row.try_get(name)
}

/// Reads a time stored as text (see `store::time_text`); NULL is `None`.
pub fn time_col(
    row: &AnyRow,
    name: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, sqlx::Error> {
    col::<Option<String>>(row, name)?
        .map(|t| crate::store::parse_time(&t).map_err(|e| sqlx::Error::Decode(e.into())))
        .transpose()
}

/// Table names are built from registered projection names only, never from user input; this
/// checks that anyway before one is put into SQL.
pub fn checked_table_name(name: &str) -> &str {
    assert!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "not a projection table name: {name:?}"
    );
    name
}
