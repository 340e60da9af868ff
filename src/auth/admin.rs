//! What an admin does to other users. Callers check that the actor is an admin (the policy
//! table, which `require_access` reads); these keep the rules that hold whoever acts: there is always
//! an enabled admin, and a user who loses access loses their sessions at once.

use super::password::{self, Password};
use super::service::{Auth, AuthError};
use super::{sessions, throttle, users, DisplayName, Role, UserName, UserSummary};
use crate::domain::FieldError;

const LAST_ADMIN: &str = "is the last enabled admin; make someone else an admin first";

impl Auth {
    /// Adds a user who can sign in at once with `password`.
    #[tracing::instrument(skip(self, display_name, password))]
    pub async fn add_user(
        &self,
        name: &str,
        display_name: &str,
        role: Role,
        password: &str,
    ) -> Result<UserSummary, AuthError> {
        let name = UserName::parse(name)?;
        let display_name = DisplayName::parse(display_name)?;
        let password = Password::parse("password", password, &name)?;
        let hash = password::hash(&password).await?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let created = users::create(&mut *tx, &name, &display_name, role, &hash, now).await?;
        tx.commit().await?;
        if !created {
            return Err(FieldError::new("name", "is taken").into());
        }
        tracing::info!(user = %name, role = %role, "user added");
        Ok(UserSummary {
            name: name.to_string(),
            display_name: display_name.to_string(),
            role,
            created_at: now,
            password_changed_at: now,
            disabled_at: None,
        })
    }

    #[tracing::instrument(skip(self))]
    pub async fn list_users(&self) -> Result<Vec<UserSummary>, AuthError> {
        Ok(users::list(self.db.read()).await?)
    }

    /// Disables a user and ends their sessions. Disabling a disabled user changes nothing.
    #[tracing::instrument(skip(self))]
    pub async fn disable_user(&self, name: &str) -> Result<(), AuthError> {
        let name = UserName::parse(name)?;
        let mut tx = self.db.begin().await?;
        // Admin rows first (locked on PostgreSQL), then the user: see count_enabled_admins.
        let admins = users::count_enabled_admins(&mut tx, self.db.dialect()).await?;
        let user = users::find(&mut *tx, &name)
            .await?
            .ok_or(AuthError::NotFound)?;
        if user.disabled {
            return Ok(());
        }
        if user.role == Role::Admin && admins <= 1 {
            return Err(AuthError::Refused(format!("{name} {LAST_ADMIN}")));
        }
        users::disable(&mut *tx, &name, self.clock.now()).await?;
        let ended = sessions::delete_for_user(&mut *tx, name.as_str(), None).await?;
        tx.commit().await?;
        tracing::info!(user = %name, sessions_ended = ended, "user disabled");
        Ok(())
    }

    /// Undoes a disable: the user may sign in again (with the password they had; their old
    /// sessions stay ended). Enabling an enabled user changes nothing.
    #[tracing::instrument(skip(self))]
    pub async fn enable_user(&self, name: &str) -> Result<(), AuthError> {
        let name = UserName::parse(name)?;
        let mut tx = self.db.begin().await?;
        if users::find(&mut *tx, &name).await?.is_none() {
            return Err(AuthError::NotFound);
        }
        let enabled = users::enable(&mut *tx, &name).await?;
        tx.commit().await?;
        if enabled {
            tracing::info!(user = %name, "user enabled");
        }
        Ok(())
    }

    /// Sets a new password for someone who lost theirs; their sessions end and any sign-in
    /// lock on the name is lifted.
    #[tracing::instrument(skip(self, new_password))]
    pub async fn reset_password(&self, name: &str, new_password: &str) -> Result<(), AuthError> {
        let name = UserName::parse(name)?;
        let password = Password::parse("new_password", new_password, &name)?;
        let hash = password::hash(&password).await?;
        let mut tx = self.db.begin().await?;
        if !users::set_password(&mut *tx, &name, &hash, self.clock.now()).await? {
            return Err(AuthError::NotFound);
        }
        let ended = sessions::delete_for_user(&mut *tx, name.as_str(), None).await?;
        tx.commit().await?;
        throttle::clear(&self.db, &throttle::name_key(name.as_str())).await?;
        tracing::info!(user = %name, sessions_ended = ended, "password reset");
        Ok(())
    }

    /// Changes a user's role; it applies to their live sessions from the next request, since
    /// every request reads the role afresh.
    #[tracing::instrument(skip(self))]
    pub async fn change_role(&self, name: &str, role: Role) -> Result<(), AuthError> {
        let name = UserName::parse(name)?;
        let mut tx = self.db.begin().await?;
        let admins = users::count_enabled_admins(&mut tx, self.db.dialect()).await?;
        let user = users::find(&mut *tx, &name)
            .await?
            .ok_or(AuthError::NotFound)?;
        if user.role == role {
            return Ok(());
        }
        if user.role == Role::Admin && !user.disabled && admins <= 1 {
            return Err(AuthError::Refused(format!("{name} {LAST_ADMIN}")));
        }
        users::set_role(&mut *tx, &name, role).await?;
        tx.commit().await?;
        tracing::info!(user = %name, role = %role, "role changed");
        Ok(())
    }
}
