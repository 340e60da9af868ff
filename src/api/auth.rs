//! Signing in and out, the first-run set-up, and one's own password. The session lives in an
//! HttpOnly cookie; these functions set and clear it.

use crate::auth::CurrentUser;
use crate::error::AppError;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn;

/// The signed-in user, or nothing (the header and the login page ask).
#[server(endpoint = "auth/me")]
pub async fn who_am_i() -> Result<Option<CurrentUser>, AppError> {
    Ok(crate::auth::current_user())
}

/// Signs in and sets the session cookie; the browser then goes to `next` (a path on this site).
#[server(endpoint = "auth/login")]
pub async fn log_in(
    name: String,
    password: String,
    #[server(default)] next: String,
) -> Result<CurrentUser, AppError> {
    let state = super::context::app_state()?;
    let (user, token) = state
        .auth
        .login(&name, &password, session::client_addr())
        .await?;
    session::set_cookie(&token, &state.auth);
    session::redirect(crate::auth::safe_next(&next));
    Ok(user)
}

/// Ends this session and clears the cookie.
#[server(endpoint = "auth/logout")]
pub async fn log_out() -> Result<(), AppError> {
    let state = super::context::app_state()?;
    if let Some(token) = session::token() {
        state.auth.logout(&token).await?;
    }
    session::clear_cookie();
    session::redirect("/login");
    Ok(())
}

/// Creates the first admin with the one-time token from the log, and signs them in.
#[server(endpoint = "auth/setup")]
pub async fn set_up(
    token: String,
    name: String,
    display_name: String,
    password: String,
) -> Result<CurrentUser, AppError> {
    let state = super::context::app_state()?;
    let user = state
        .auth
        .complete_setup(&token, &name, &display_name, &password)
        .await?;
    let (_, token) = state
        .auth
        .login(&name, &password, session::client_addr())
        .await?;
    session::set_cookie(&token, &state.auth);
    session::redirect("/");
    Ok(user)
}

/// Changes the signed-in user's own password; their other sessions end, this one stays.
#[server(endpoint = "auth/change-password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    /// The console's form asks for the new password twice; a script may leave this out.
    #[server(default)]
    repeat_password: String,
) -> Result<String, AppError> {
    let state = super::context::app_state()?;
    let user = crate::auth::require_access(<ChangePassword as ServerFn>::PATH)?;
    if !repeat_password.is_empty() && repeat_password != new_password {
        return Err(AppError::validation(crate::domain::FieldError::new(
            "repeat_password",
            "is not the same as the new password",
        )));
    }
    let token = session::token().ok_or(AppError::Unauthorized {
        message: "sign in first".into(),
    })?;
    state
        .auth
        .change_own_password(&user, &current_password, &new_password, &token)
        .await?;
    Ok("Password changed; your other sessions were signed out.".into())
}

#[cfg(feature = "ssr")]
mod session {
    use crate::auth::{clear_session_cookie, session_cookie, session_token, Auth, ClientAddr};
    use http::header::SET_COOKIE;
    use leptos::prelude::{expect_context, use_context};
    use leptos_axum::ResponseOptions;
    use std::net::IpAddr;

    fn parts() -> Option<http::request::Parts> {
        use_context::<http::request::Parts>()
    }

    /// The client's address (behind a trusted proxy, the one it forwarded for), for throttling
    /// sign-ins per address.
    pub fn client_addr() -> Option<IpAddr> {
        parts()?.extensions.get::<ClientAddr>().map(|c| c.0)
    }

    pub fn token() -> Option<String> {
        session_token(&parts()?.headers)
    }

    pub fn set_cookie(token: &str, auth: &Auth) {
        expect_context::<ResponseOptions>()
            .insert_header(SET_COOKIE, session_cookie(token, auth.config()));
    }

    /// Sends the browser to a path of this site. leptos_axum's own `redirect` panics on a value
    /// that cannot be a header; here such a value sends the browser to the board instead.
    pub fn redirect(path: &str) {
        let path = if http::HeaderValue::from_str(path).is_ok() {
            path
        } else {
            "/"
        };
        leptos_axum::redirect(path);
    }

    pub fn clear_cookie() {
        expect_context::<ResponseOptions>().insert_header(SET_COOKIE, clear_session_cookie());
    }
}
