//! The few database helpers the auth repositories share. Same portable subset as the
//! projections: `$n` placeholders in order of first use, times as fixed-width UTC text.

use chrono::{DateTime, Utc};
use sqlx::{Any, AnyPool, Transaction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Postgres,
    Sqlite,
}

impl Flavor {
    pub(crate) fn of(pool: &AnyPool) -> Self {
        if pool.connect_options().database_url.scheme() == "sqlite" {
            Flavor::Sqlite
        } else {
            Flavor::Postgres
        }
    }
}

pub(crate) type Tx = Transaction<'static, Any>;

/// A write transaction. On SQLite it takes the write lock up front, so it waits its turn instead
/// of failing when it upgrades from reading to writing.
pub(crate) async fn begin(pool: &AnyPool, flavor: Flavor) -> Result<Tx, sqlx::Error> {
    match flavor {
        Flavor::Postgres => pool.begin().await,
        Flavor::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
    }
}

/// Fixed width, so text order is time order and SQL can compare stored times as strings.
pub(crate) fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| sqlx::Error::Decode(format!("bad time {text:?}: {e}").into()))
}

pub(crate) fn parse_optional_time(
    text: Option<String>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    text.as_deref().map(parse_time).transpose()
}
