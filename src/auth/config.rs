//! How sign-in behaves, set by the operator.

use super::sessions::Lifetimes;
use chrono::TimeDelta;
use std::time::Duration;

#[derive(Clone)]
pub struct AuthConfig {
    /// A session ends after this long without a request.
    pub idle: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute: Duration,
    /// Mark the cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// A bearer token that may read `/metrics` without a session (for scrapers).
    pub metrics_token: Option<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(12 * 60 * 60),
            absolute: Duration::from_secs(7 * 24 * 60 * 60),
            secure_cookies: false,
            metrics_token: None,
        }
    }
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("idle", &self.idle)
            .field("absolute", &self.absolute)
            .field("secure_cookies", &self.secure_cookies)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl AuthConfig {
    pub(crate) fn lifetimes(&self) -> Lifetimes {
        let delta = |d: Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        Lifetimes {
            idle: delta(self.idle),
            absolute: delta(self.absolute),
        }
    }
}
