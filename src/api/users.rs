//! User administration, for admins: list, add, disable, reset a password, change a role.

use crate::auth::UserSummary;
use crate::error::AppError;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn;

#[server(endpoint = "users/list")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    let state = admin()?;
    Ok(state.auth.list_users().await?)
}

#[server(endpoint = "users/add")]
pub async fn add_user(
    name: String,
    display_name: String,
    role: String,
    password: String,
) -> Result<String, AppError> {
    let state = admin()?;
    let role = crate::auth::Role::from_input(&role).map_err(AppError::validation)?;
    let display = if display_name.trim().is_empty() {
        name.clone()
    } else {
        display_name
    };
    let user = state
        .auth
        .add_user(&name, &display, role, &password)
        .await?;
    Ok(format!("Added {} as {}", user.name, user.role.label()))
}

#[server(endpoint = "users/disable")]
pub async fn disable_user(name: String) -> Result<String, AppError> {
    let state = admin()?;
    state.auth.disable_user(&name).await?;
    Ok(format!("{name} is disabled and signed out"))
}

/// Undoes a disable: the user may sign in again.
#[server(endpoint = "users/enable")]
pub async fn enable_user(name: String) -> Result<String, AppError> {
    let state = admin()?;
    state.auth.enable_user(&name).await?;
    Ok(format!("{name} may sign in again"))
}

#[server(endpoint = "users/reset-password")]
pub async fn reset_password(name: String, password: String) -> Result<String, AppError> {
    let state = admin()?;
    state.auth.reset_password(&name, &password).await?;
    Ok(format!("{name} has a new password and was signed out"))
}

#[server(endpoint = "users/change-role")]
pub async fn change_role(name: String, role: String) -> Result<String, AppError> {
    let state = admin()?;
    let role = crate::auth::Role::from_input(&role).map_err(AppError::validation)?;
    state.auth.change_role(&name, role).await?;
    Ok(format!("{name} is now {}", role.label()))
}

/// The state, for a signed-in admin only.
#[cfg(feature = "ssr")]
fn admin() -> Result<crate::state::AppState, AppError> {
    crate::auth::require_access(<ChangeRole as ServerFn>::PATH)?;
    super::context::app_state()
}
