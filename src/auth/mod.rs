//! Authentication and authorisation. The types and the role policy here are pure and shared with
//! the browser (pages show or hide actions by role); everything that touches the database, hashes
//! passwords or sees HTTP lives in the ssr-only submodules.

mod names;
pub mod policy;

#[cfg(feature = "ssr")]
mod admin;
#[cfg(feature = "ssr")]
pub mod client_addr;
#[cfg(feature = "ssr")]
mod config;
#[cfg(feature = "ssr")]
mod context;
#[cfg(feature = "ssr")]
mod cookie;
#[cfg(feature = "ssr")]
pub mod middleware;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub(crate) mod sessions;
#[cfg(feature = "ssr")]
pub mod throttle;
#[cfg(feature = "ssr")]
pub(crate) mod users;

pub use names::{DisplayName, UserName};
pub use policy::{access_for, authorize, entry_for, is_api_path, safe_next, Denied, POLICY};

#[cfg(feature = "ssr")]
pub use client_addr::{ClientAddr, TrustedProxies};
#[cfg(feature = "ssr")]
pub use config::AuthConfig;
#[cfg(feature = "ssr")]
pub use context::{current_user, require_access};
#[cfg(feature = "ssr")]
pub use middleware::{
    clear_session_cookie, enforce_policy, refuse_cross_site, session_cookie, session_token,
    SESSION_COOKIE,
};
#[cfg(feature = "ssr")]
pub use password::{read_password, Password};
#[cfg(feature = "ssr")]
pub use service::{Auth, AuthError};

use crate::domain::FieldError;
use crate::text_enum::text_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

text_enum! {
    /// What a signed-in person may do. An admin may do everything a dispatcher may, and more.
    /// The stored and serialised form is the text.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Role {
        Dispatcher = "dispatcher",
        Admin = "admin",
    }
}

impl Role {
    /// Reads what a person typed (or the stored form): case and surrounding space do not
    /// matter.
    pub fn from_input(input: &str) -> Result<Self, FieldError> {
        Self::parse(&input.trim().to_ascii_lowercase())
            .ok_or_else(|| FieldError::new("role", "must be dispatcher or admin"))
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Dispatcher => "Dispatcher",
            Role::Admin => "Admin",
        }
    }

    /// Whether someone with this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        matches!(
            (self, needed),
            (Role::Admin, _) | (Role::Dispatcher, Role::Dispatcher)
        )
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The person behind a request, as resolved from a live session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub name: String,
    pub display_name: String,
    pub role: Role,
}

impl CurrentUser {
    pub fn allows(&self, needed: Role) -> bool {
        self.role.allows(needed)
    }
}

/// One row of the users page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub name: String,
    pub display_name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub password_changed_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// Who may reach a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Anyone signed in, whatever the role.
    SignedIn,
    /// Someone signed in whose role allows this one.
    Role(Role),
    /// An admin session, or the configured metrics bearer token (for scrapers).
    AdminOrMetricsToken,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_admin_may_do_what_a_dispatcher_may_but_not_the_reverse() {
        assert!(Role::Admin.allows(Role::Dispatcher));
        assert!(Role::Admin.allows(Role::Admin));
        assert!(Role::Dispatcher.allows(Role::Dispatcher));
        assert!(!Role::Dispatcher.allows(Role::Admin));
    }

    #[test]
    fn roles_round_trip_through_text_and_json() {
        for role in Role::ALL {
            assert_eq!(Role::from_input(role.as_str()), Ok(role));
            let json = serde_json::to_value(role).unwrap();
            assert_eq!(json, role.as_str());
        }
        assert_eq!(Role::from_input(" ADMIN "), Ok(Role::Admin));
        assert!(Role::from_input("root").is_err());
        assert_eq!(Role::Dispatcher.label(), "Dispatcher");
    }
}
