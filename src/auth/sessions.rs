//! The `sessions` table. A session is a random 256-bit token held by the browser in a cookie;
//! the table keeps only its SHA-256, so reading the database does not let anyone sign in.

use super::{CurrentUser, Role};
use crate::db::{decode_time as parse_time, time_text, PortableDb};
use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};
use sqlx::{Any, Executor, Row};

/// `last_seen_at` is written at most this often, so a busy page does not write on every request.
const REFRESH_EVERY: TimeDelta = TimeDelta::minutes(1);
const TOKEN_BYTES: usize = 32;

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lifetimes {
    /// Since the last request.
    pub idle: TimeDelta,
    /// Since sign-in, however active.
    pub absolute: TimeDelta,
}

/// A fresh token from the operating system's random source, as 64 hex digits.
pub(crate) fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::getrandom(&mut bytes)?;
    Ok(hex(&bytes))
}

/// Whether `token` could be one of ours; anything else is not looked up at all.
pub(crate) fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_BYTES * 2 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts a session for `user_name` and returns its token: the only time it is ever seen.
#[tracing::instrument(skip(db, lifetimes))]
pub(crate) async fn create(
    db: &PortableDb,
    user_name: &str,
    lifetimes: Lifetimes,
    now: DateTime<Utc>,
) -> Result<String, CreateError> {
    let token = new_token()?;
    db.execute(
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_name, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $3, $4)",
        )
        .bind(hash(&token))
        .bind(user_name)
        .bind(time_text(now))
        .bind(time_text(now + lifetimes.absolute)),
    )
    .await?;
    Ok(token)
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum CreateError {
    #[error("the operating system's random source failed: {0}")]
    Random(#[from] getrandom::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The user behind a live session. A session that idled too long, outlived its absolute
/// lifetime, or whose user is disabled is deleted and resolves to `None`.
#[tracing::instrument(skip(db, token, lifetimes))]
pub(crate) async fn resolve(
    db: &PortableDb,
    token: &str,
    lifetimes: Lifetimes,
    now: DateTime<Utc>,
) -> Result<Option<CurrentUser>, sqlx::Error> {
    if !well_formed(token) {
        return Ok(None);
    }
    let id_hash = hash(token);
    let row = sqlx::query(
        "SELECT s.created_at, s.last_seen_at, s.expires_at, u.name, u.display_name, u.role, \
         u.disabled_at FROM sessions s JOIN users u ON u.name = s.user_name WHERE s.id_hash = $1",
    )
    .bind(&id_hash)
    .fetch_optional(db.read())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let created_at = parse_time(&row.try_get::<String, _>("created_at")?)?;
    let last_seen_at = parse_time(&row.try_get::<String, _>("last_seen_at")?)?;
    let expires_at = parse_time(&row.try_get::<String, _>("expires_at")?)?;
    let disabled = row.try_get::<Option<String>, _>("disabled_at")?.is_some();
    let live = !disabled
        && now < expires_at
        && now - created_at < lifetimes.absolute
        && now - last_seen_at < lifetimes.idle;
    if !live {
        delete_hash(db, &id_hash).await?;
        return Ok(None);
    }
    if now - last_seen_at >= REFRESH_EVERY {
        db.execute(
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(time_text(now))
                .bind(&id_hash),
        )
        .await?;
    }
    let role: String = row.try_get("role")?;
    Ok(Some(CurrentUser {
        name: row.try_get("name")?,
        display_name: row.try_get("display_name")?,
        role: Role::from_input(&role)
            .map_err(|e| sqlx::Error::Decode(format!("role {role:?}: {e}").into()))?,
    }))
}

/// Ends one session (signing out). Unknown tokens are no error.
#[tracing::instrument(skip(db, token))]
pub(crate) async fn delete(db: &PortableDb, token: &str) -> Result<(), sqlx::Error> {
    delete_hash(db, &hash(token)).await
}

async fn delete_hash(db: &PortableDb, id_hash: &str) -> Result<(), sqlx::Error> {
    db.execute(sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash))
        .await?;
    Ok(())
}

/// Ends every session of a user, but the one of `except` (the browser that changed the
/// password stays signed in).
#[tracing::instrument(skip(exec, except))]
pub(crate) async fn delete_for_user<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    user_name: &str,
    except: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_name = $1 AND id_hash <> $2")
        .bind(user_name)
        .bind(except.map(hash).unwrap_or_default())
        .execute(exec)
        .await?;
    Ok(done.rows_affected())
}

/// Removes sessions past their absolute expiry, so the table does not grow without bound.
#[tracing::instrument(skip(db))]
pub(crate) async fn purge_expired(db: &PortableDb, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let done = db
        .execute(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(time_text(now)))
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_only_their_hash_is_kept() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(well_formed(&a));
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), a);
        assert_eq!(hash(&a), hash(&a));
    }

    #[test]
    fn malformed_tokens_are_not_looked_up() {
        assert!(!well_formed(""));
        assert!(!well_formed(&"g".repeat(64)));
        assert!(!well_formed(&"a".repeat(63)));
        assert!(!well_formed("' OR 1=1 --"));
    }

    #[test]
    fn hashes_are_sha256_in_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
