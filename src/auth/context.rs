//! What server functions use: the signed-in user of the current request, the policy check, and
//! `AuthError` turned into the one error type clients see. Server functions must check for
//! themselves: during server rendering they are called in-process, past the middleware.

use super::policy::{access_for, authorize, Denied};
use super::service::AuthError;
use super::{Access, CurrentUser, Role};
use crate::error::AppError;

/// The user the middleware resolved for this request, if any.
pub fn current_user() -> Option<CurrentUser> {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
}

/// The signed-in user, if the policy table lets them call the server function at `path` (its
/// own `PATH`): the role is written once, in the table the middleware consults too.
pub fn require_access(path: &str) -> Result<CurrentUser, AppError> {
    check(current_user(), access_for("POST", path))
}

fn check(user: Option<CurrentUser>, access: Option<Access>) -> Result<CurrentUser, AppError> {
    // A path without an entry is refused, as the middleware refuses it.
    let access = access.unwrap_or(Access::Role(Role::Admin));
    match (authorize(access, user.as_ref()), user) {
        (Err(Denied::SignInFirst), _) | (Ok(()), None) => Err(AppError::Unauthorized {
            message: "sign in first".into(),
        }),
        (Err(Denied::Forbidden { needed }), _) => Err(AppError::Forbidden {
            message: format!("this needs the {} role", needed.label()),
        }),
        (Ok(()), Some(user)) => Ok(user),
    }
}

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Invalid { field, message } => {
                AppError::invalid(vec![crate::domain::FieldError { field, message }])
            }
            e @ (AuthError::WrongCredentials | AuthError::Throttled { .. }) => {
                AppError::Unauthorized {
                    message: e.to_string(),
                }
            }
            AuthError::NotFound => AppError::NotFound {
                what: "user".into(),
            },
            AuthError::Refused(message) => AppError::Rejected {
                message,
                status: None,
            },
            e @ AuthError::SetupUnavailable => AppError::Forbidden {
                message: e.to_string(),
            },
            AuthError::Database(e) if crate::db::is_transient(&e) => {
                tracing::warn!(error = %e, "auth: database unavailable");
                AppError::Unavailable { saving: false }
            }
            AuthError::Database(e) => {
                tracing::error!(error = %e, "auth: database error");
                AppError::Internal
            }
            AuthError::Internal(message) => {
                tracing::error!(error = %message, "auth: internal error");
                AppError::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_check_tells_signed_out_from_forbidden() {
        let dispatcher = CurrentUser {
            name: "dan".into(),
            display_name: "Dan".into(),
            role: Role::Dispatcher,
        };
        let status = |r: Result<CurrentUser, AppError>| r.map_err(|e| e.status_code());
        let users_add = access_for("POST", "/api/users/add");
        let schedule = access_for("POST", "/api/shipments/schedule");
        let get = access_for("POST", "/api/shipments/get");
        assert_eq!(
            status(check(None, schedule)),
            Err(http::StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            status(check(Some(dispatcher.clone()), users_add)),
            Err(http::StatusCode::FORBIDDEN)
        );
        assert_eq!(
            check(Some(dispatcher.clone()), schedule),
            Ok(dispatcher.clone())
        );
        assert_eq!(check(Some(dispatcher.clone()), get), Ok(dispatcher.clone()));
        assert_eq!(
            status(check(
                Some(dispatcher),
                access_for("POST", "/api/no-such-fn")
            )),
            Err(http::StatusCode::FORBIDDEN)
        );
    }

    #[test]
    fn auth_errors_become_client_errors_without_detail_for_the_unexpected() {
        let e = AppError::from(AuthError::WrongCredentials);
        assert_eq!(e.status_code(), http::StatusCode::UNAUTHORIZED);
        assert_eq!(e.to_string(), "name or password is wrong");
        let e = AppError::from(AuthError::Throttled {
            retry_after_secs: 61,
        });
        assert_eq!(
            e.to_string(),
            "too many failed sign-ins; try again in 2 minutes"
        );
        let e = AppError::from(AuthError::Internal("secret detail".into()));
        assert!(!e.to_string().contains("secret"));
        let e = AppError::from(AuthError::Invalid {
            field: "name".into(),
            message: "is taken".into(),
        });
        assert_eq!(e.field_message("name").as_deref(), Some("is taken"));
    }
}
