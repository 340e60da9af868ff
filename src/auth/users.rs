//! The `users` table: every statement on it is here. Functions take any executor, so the
//! service can run several of them in one transaction.

use super::{DisplayName, Role, UserName, UserSummary};
use crate::db::{decode_time as parse_time, time_col, time_text, Dialect, Tx};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// A user as stored, with the password hash: never leaves the auth module.
#[derive(Clone)]
pub(crate) struct StoredUser {
    pub name: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub disabled: bool,
}

/// Adds a user; `false` when the name is taken.
#[tracing::instrument(skip(exec, display_name, password_hash))]
pub(crate) async fn create<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    name: &UserName,
    display_name: &DisplayName,
    role: Role,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO users (name, display_name, role, password_hash, created_at, \
         password_changed_at) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name.as_str())
    .bind(display_name.as_str())
    .bind(role.as_str())
    .bind(password_hash)
    .bind(time_text(now))
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[tracing::instrument(skip(exec))]
pub(crate) async fn find<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    name: &UserName,
) -> Result<Option<StoredUser>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT name, display_name, role, password_hash, disabled_at FROM users WHERE name = $1",
    )
    .bind(name.as_str())
    .fetch_optional(exec)
    .await?;
    row.map(|row| {
        Ok(StoredUser {
            name: row.try_get("name")?,
            display_name: row.try_get("display_name")?,
            role: role_col(&row)?,
            password_hash: row.try_get("password_hash")?,
            disabled: row.try_get::<Option<String>, _>("disabled_at")?.is_some(),
        })
    })
    .transpose()
}

/// Everyone, enabled first, then by name.
#[tracing::instrument(skip(exec))]
pub(crate) async fn list<'e, E: Executor<'e, Database = Any>>(
    exec: E,
) -> Result<Vec<UserSummary>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT name, display_name, role, created_at, password_changed_at, disabled_at \
         FROM users ORDER BY CASE WHEN disabled_at IS NULL THEN 0 ELSE 1 END, name",
    )
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(UserSummary {
                name: row.try_get("name")?,
                display_name: row.try_get("display_name")?,
                role: role_col(row)?,
                created_at: parse_time(&row.try_get::<String, _>("created_at")?)?,
                password_changed_at: parse_time(&row.try_get::<String, _>("password_changed_at")?)?,
                disabled_at: time_col(row, "disabled_at")?,
            })
        })
        .collect()
}

/// Replaces the password hash; `false` when there is no such user.
#[tracing::instrument(skip(exec, password_hash))]
pub(crate) async fn set_password<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    name: &UserName,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE name = $3",
    )
    .bind(password_hash)
    .bind(time_text(now))
    .bind(name.as_str())
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[tracing::instrument(skip(exec))]
pub(crate) async fn set_role<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    name: &UserName,
    role: Role,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET role = $1 WHERE name = $2")
        .bind(role.as_str())
        .bind(name.as_str())
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the user disabled (kept for the audit trail: events name their actor); `false` when
/// there is no such user or it already was.
#[tracing::instrument(skip(exec))]
pub(crate) async fn disable<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    name: &UserName,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE users SET disabled_at = $1 WHERE name = $2 AND disabled_at IS NULL")
            .bind(time_text(now))
            .bind(name.as_str())
            .execute(exec)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Lets a disabled user sign in again; `false` when there is no such user or it was enabled.
#[tracing::instrument(skip(exec))]
pub(crate) async fn enable<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    name: &UserName,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE users SET disabled_at = NULL WHERE name = $1 AND disabled_at IS NOT NULL",
    )
    .bind(name.as_str())
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many users exist, disabled ones included.
#[tracing::instrument(skip(exec))]
pub(crate) async fn count<'e, E: Executor<'e, Database = Any>>(
    exec: E,
) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(exec)
        .await?
        .try_get("n")
}

/// How many enabled admins exist. On PostgreSQL their rows stay locked until the transaction
/// ends, so two admins demoting each other at once cannot leave none (SQLite's `BEGIN
/// IMMEDIATE` already serialises writers).
#[tracing::instrument(skip(tx))]
pub(crate) async fn count_enabled_admins(
    tx: &mut Tx,
    dialect: Dialect,
) -> Result<i64, sqlx::Error> {
    let lock = match dialect {
        Dialect::Postgres => " FOR UPDATE",
        Dialect::Sqlite => "",
    };
    let sql = format!("SELECT name FROM users WHERE role = $1 AND disabled_at IS NULL{lock}");
    let rows = sqlx::query(&sql)
        .bind(Role::Admin.as_str())
        .fetch_all(&mut **tx)
        .await?;
    Ok(i64::try_from(rows.len()).unwrap_or(i64::MAX))
}

fn role_col(row: &AnyRow) -> Result<Role, sqlx::Error> {
    let text: String = row.try_get("role")?;
    Role::from_input(&text).map_err(|e| sqlx::Error::Decode(format!("role {text:?}: {e}").into()))
}
