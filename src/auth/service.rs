//! The auth service: first-run set-up, sign-in with throttling, sessions and own passwords.
//! Administration of other users is in `admin.rs`. Server functions, the CLI and the middleware
//! talk to this, never to the tables.

use super::config::AuthConfig;
use super::password::{self, HashError, Password, DUMMY_HASH};
use super::sessions::{self, CreateError};
use super::throttle::{self, Throttle};
use super::{users, CurrentUser, DisplayName, Role, UserName};
use crate::db::PortableDb;
use crate::domain::FieldError;
use crate::time::Clock;
use chrono::{DateTime, Utc};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use subtle::ConstantTimeEq;

/// Expected outcomes first (the caller shows them), then what should not happen.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// One answer for an unknown name, a disabled user and a wrong password.
    #[error("name or password is wrong")]
    WrongCredentials,
    #[error("too many failed sign-ins; try again in {}", minutes(*retry_after_secs))]
    Throttled { retry_after_secs: u64 },
    #[error("no such user")]
    NotFound,
    #[error("{0}")]
    Refused(String),
    #[error("set-up is not available: a user exists already, or the set-up token is wrong")]
    SetupUnavailable,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

fn minutes(secs: u64) -> String {
    match secs.div_ceil(60).max(1) {
        1 => "1 minute".to_string(),
        n => format!("{n} minutes"),
    }
}

impl From<FieldError> for AuthError {
    fn from(e: FieldError) -> Self {
        AuthError::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

impl From<HashError> for AuthError {
    fn from(e: HashError) -> Self {
        AuthError::Internal(e.to_string())
    }
}

impl From<CreateError> for AuthError {
    fn from(e: CreateError) -> Self {
        match e {
            CreateError::Database(e) => AuthError::Database(e),
            CreateError::Random(e) => AuthError::Internal(e.to_string()),
        }
    }
}

/// Cheap to clone: one pool, shared config and set-up token.
#[derive(Clone)]
pub struct Auth {
    pub(crate) db: PortableDb,
    config: Arc<AuthConfig>,
    /// "Now" for sessions, the throttle and the users' timestamps.
    pub(super) clock: Clock,
    /// Exists only while there are no users; whoever holds it may create the first admin.
    setup_token: Arc<Mutex<Option<String>>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("config", &self.config)
            .finish()
    }
}

impl Auth {
    /// `db` must reach the database whose migrations the event store ran.
    pub fn new(db: PortableDb, config: AuthConfig) -> Self {
        Self {
            db,
            config: Arc::new(config),
            clock: Clock::system(),
            setup_token: Arc::new(Mutex::new(None)),
        }
    }

    /// Reads "now" from `clock` instead of the system (a test moves it to expire sessions).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    fn setup_slot(&self) -> MutexGuard<'_, Option<String>> {
        self.setup_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A token that lets one person create the first admin, only while there are no users. The
    /// same token is returned until it is used; it is never stored, so it dies with the process.
    #[tracing::instrument(skip(self))]
    pub async fn setup_token_if_no_users(&self) -> Result<Option<String>, AuthError> {
        if users::count(self.db.read()).await? > 0 {
            *self.setup_slot() = None;
            return Ok(None);
        }
        let mut slot = self.setup_slot();
        if let Some(token) = slot.as_ref() {
            return Ok(Some(token.clone()));
        }
        let token = sessions::new_token().map_err(|e| AuthError::Internal(e.to_string()))?;
        *slot = Some(token.clone());
        Ok(Some(token))
    }

    /// Creates the first admin with the set-up token, which is then used up.
    #[tracing::instrument(skip(self, token, display_name, password))]
    pub async fn complete_setup(
        &self,
        token: &str,
        name: &str,
        display_name: &str,
        password: &str,
    ) -> Result<CurrentUser, AuthError> {
        let name = UserName::parse(name)?;
        let display_name = DisplayName::parse(display_name)?;
        let password = Password::parse("password", password, &name)?;
        let hash = password::hash(&password).await?;
        // Taken out while the admin is created, so a second request with it finds nothing.
        let token = self.take_setup_token(token)?;
        let created = self.create_first_admin(&name, &display_name, &hash).await;
        if matches!(created, Err(AuthError::Database(_))) {
            *self.setup_slot() = Some(token); // nothing happened: the operator may try again
        }
        created?;
        tracing::info!(user = %name, "first admin created");
        Ok(CurrentUser {
            name: name.to_string(),
            display_name: display_name.to_string(),
            role: Role::Admin,
        })
    }

    fn take_setup_token(&self, offered: &str) -> Result<String, AuthError> {
        let mut slot = self.setup_slot();
        let matches = slot
            .as_deref()
            .is_some_and(|held| bool::from(held.as_bytes().ct_eq(offered.as_bytes())));
        match slot.take() {
            Some(held) if matches => Ok(held),
            other => {
                *slot = other;
                Err(AuthError::SetupUnavailable)
            }
        }
    }

    async fn create_first_admin(
        &self,
        name: &UserName,
        display_name: &DisplayName,
        hash: &str,
    ) -> Result<(), AuthError> {
        let mut tx = self.db.begin().await?;
        if users::count(&mut *tx).await? > 0 {
            return Err(AuthError::SetupUnavailable);
        }
        users::create(
            &mut *tx,
            name,
            display_name,
            Role::Admin,
            hash,
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Signs in and returns the new session's token (for the cookie). Every failure looks the
    /// same and takes about as long, whether the name exists or not.
    #[tracing::instrument(skip(self, password))]
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        client_addr: Option<IpAddr>,
    ) -> Result<(CurrentUser, String), AuthError> {
        let now = self.clock.now();
        let Ok(name) = UserName::parse(name) else {
            return Err(AuthError::WrongCredentials);
        };
        let name_key = throttle::name_key(name.as_str());
        let addr_key = client_addr.map(throttle::addr_key);
        let keys: Vec<String> = std::iter::once(name_key.clone())
            .chain(addr_key.clone())
            .collect();
        self.hold_back(&keys, now).await?;
        let user = users::find(self.db.read(), &name).await?;
        let (hash, usable) = match &user {
            Some(u) if !u.disabled => (u.password_hash.as_str(), true),
            _ => (DUMMY_HASH, false),
        };
        let matched = password.len() <= 4 * Password::MAX_CHARS
            && password::verify(password, hash).await?
            && usable;
        let Some(user) = user.filter(|_| matched) else {
            throttle::record_failure(&self.db, &keys, self.clock.now()).await?;
            tracing::info!(user = %name, "sign-in refused");
            return Err(AuthError::WrongCredentials);
        };
        throttle::record_success(&self.db, &name_key, addr_key.as_deref()).await?;
        // Housekeeping rides on successful sign-ins: they are regular and not attacker-driven.
        sessions::purge_expired(&self.db, now).await?;
        throttle::purge_stale(&self.db, now).await?;
        let token = sessions::create(&self.db, &user.name, self.config.lifetimes(), now).await?;
        tracing::info!(user = %name, "signed in");
        let current = CurrentUser {
            name: user.name,
            display_name: user.display_name,
            role: user.role,
        };
        Ok((current, token))
    }

    /// Counts a password try and waits or refuses as the throttle says.
    async fn hold_back(&self, keys: &[String], now: DateTime<Utc>) -> Result<(), AuthError> {
        match throttle::begin_attempt(&self.db, keys, now).await? {
            Throttle::Allow => Ok(()),
            Throttle::Delay(delay) => {
                tokio::time::sleep(delay).await;
                Ok(())
            }
            Throttle::Refuse { until } => Err(AuthError::Throttled {
                retry_after_secs: u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1),
            }),
        }
    }

    /// The user behind a session token, if the session is still live.
    #[tracing::instrument(skip(self, token))]
    pub async fn resolve_session(&self, token: &str) -> Result<Option<CurrentUser>, AuthError> {
        Ok(sessions::resolve(&self.db, token, self.config.lifetimes(), self.clock.now()).await?)
    }

    /// Signs out: the session ends everywhere at once.
    #[tracing::instrument(skip(self, token))]
    pub async fn logout(&self, token: &str) -> Result<(), AuthError> {
        Ok(sessions::delete(&self.db, token).await?)
    }

    /// Changes the signed-in user's password after checking the current one, and ends their
    /// other sessions (someone may have learned the old password); `keep_token`'s stays.
    #[tracing::instrument(skip(self, current, new, keep_token), fields(user = %user.name))]
    pub async fn change_own_password(
        &self,
        user: &CurrentUser,
        current: &str,
        new: &str,
        keep_token: &str,
    ) -> Result<(), AuthError> {
        let name = UserName::parse(&user.name)?;
        let keys = [throttle::name_key(name.as_str())];
        self.hold_back(&keys, self.clock.now()).await?;
        let stored = users::find(self.db.read(), &name)
            .await?
            .filter(|u| !u.disabled)
            .ok_or(AuthError::NotFound)?;
        if !password::verify(current, &stored.password_hash).await? {
            throttle::record_failure(&self.db, &keys, self.clock.now()).await?;
            return Err(FieldError::new("current_password", "is wrong").into());
        }
        throttle::clear(&self.db, &keys[0]).await?;
        let new = Password::parse("new_password", new, &name)?;
        if new.expose() == current {
            return Err(FieldError::new("new_password", "is the same as the current one").into());
        }
        let hash = password::hash(&new).await?;
        let mut tx = self.db.begin().await?;
        users::set_password(&mut *tx, &name, &hash, self.clock.now()).await?;
        sessions::delete_for_user(&mut *tx, name.as_str(), Some(keep_token)).await?;
        tx.commit().await?;
        tracing::info!("password changed; other sessions ended");
        Ok(())
    }
}
