//! The HTTP side: who is asking (the session cookie), whether the policy lets them, whether a
//! write comes from our own pages, and the cookie itself. Meant for
//! `axum::middleware::from_fn_with_state(auth.clone(), enforce_policy)` and
//! `axum::middleware::from_fn(refuse_cross_site)`.

use super::cookie::sets_session_cookie;
pub use super::cookie::{clear_session_cookie, session_cookie, session_token, SESSION_COOKIE};
use super::policy::{access_for, authorize, is_api_path, Denied};
use super::service::Auth;
use super::Access;
use crate::error::AppError;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST, LOCATION, ORIGIN, REFERER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use subtle::ConstantTimeEq;

/// Resolves the session, puts the `CurrentUser` into the request's extensions (server functions
/// read it from `http::request::Parts`), and lets the request through only if the policy
/// table allows it.
pub async fn enforce_policy(
    State(auth): State<Auth>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let api = is_api_path(&path);
    let Some(access) = access_for(request.method().as_str(), &path) else {
        return json_error(AppError::NotFound {
            what: format!("endpoint {path}"),
        });
    };
    // Static files are public and many per page: no session lookup for them.
    let token = session_token(request.headers()).filter(|_| !is_static_file(&path));
    // `stale_cookie`: the database said this session is gone (not merely unreachable).
    let (user, stale_cookie) = match token.as_deref() {
        None => (None, false),
        Some(token) => match auth.resolve_session(token).await {
            Ok(user) => {
                let stale = user.is_none();
                (user, stale)
            }
            // A public page still works while sessions cannot be read; the cookie is kept.
            Err(e) if access == Access::Public => {
                tracing::warn!(error = %e, "session not resolved for a public route");
                (None, false)
            }
            Err(e) => return error_response(api, AppError::from(e)),
        },
    };
    let metrics_token_ok = access == Access::AdminOrMetricsToken
        && bearer_matches(request.headers(), auth.config().metrics_token.as_deref());
    let decision = if metrics_token_ok {
        Ok(())
    } else {
        authorize(access, user.as_ref())
    };
    let signed_in = user.as_ref().map(|u| u.role);
    if let Some(user) = user {
        request.extensions_mut().insert(user);
    }
    let mut response = match decision {
        Ok(()) => next.run(request).await,
        Err(Denied::SignInFirst) if api => json_error(AppError::Unauthorized {
            message: "sign in first".into(),
        }),
        Err(Denied::SignInFirst) => redirect_to_login(&request),
        Err(Denied::Forbidden { needed }) if api => json_error(AppError::Forbidden {
            message: format!("this needs the {} role", needed.label()),
        }),
        Err(Denied::Forbidden { needed }) if is_app_page(&request) => {
            // The app draws "Not allowed" in its own shell (pages::Allowed); should a page
            // ever render without that guard, the bare page below is answered instead.
            let response = next.run(request).await;
            if response.status() == StatusCode::FORBIDDEN {
                response
            } else {
                tracing::error!(%path, "a page for a role drew itself for someone without it");
                forbidden_page(signed_in, needed)
            }
        }
        Err(Denied::Forbidden { needed }) => forbidden_page(signed_in, needed),
    };
    if stale_cookie && !sets_session_cookie(response.headers()) {
        // The browser holds a dead session: forget it, unless the handler just signed in.
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, clear_session_cookie());
    }
    response
}

/// Refuses writes that another site's page could have sent from a signed-in browser: every
/// method but GET, HEAD and OPTIONS needs an `Origin` (or else `Referer`) naming this host.
pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    let source = headers
        .get(ORIGIN)
        .or_else(|| headers.get(REFERER))
        .and_then(|h| h.to_str().ok());
    let same_site = match (host, source.and_then(scheme_and_authority)) {
        (Some(host), Some((scheme, authority))) => {
            normalise(&host, scheme) == normalise(authority, scheme)
        }
        _ => false,
    };
    if same_site {
        next.run(request).await
    } else {
        tracing::warn!(method = %request.method(), path = %request.uri().path(), "cross-site request refused");
        json_error(AppError::Forbidden {
            message: "cross-site request refused".into(),
        })
    }
}

/// A page the app renders (not a server function, a plain route or a file): only such a
/// request may reach the router while refused, to be drawn as "Not allowed".
fn is_app_page(request: &Request) -> bool {
    let path = request.uri().path();
    matches!(*request.method(), Method::GET | Method::HEAD)
        && !is_api_path(path)
        && !is_static_file(path)
        && !crate::server::PLAIN_ROUTES
            .iter()
            .any(|route| super::policy::path_matches(route, path))
}

fn is_static_file(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.ico"
}

fn bearer_matches(headers: &HeaderMap, expected: Option<&str>) -> bool {
    let Some(expected) = expected.filter(|t| !t.is_empty()) else {
        return false;
    };
    headers
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|given| bool::from(given.trim().as_bytes().ct_eq(expected.as_bytes())))
}

/// `("https", "example.com:8443")` from an origin or URL; `None` for anything else (including
/// the `null` origin and URLs with user info).
fn scheme_and_authority(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => "http",
        "https" => "https",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    (!authority.is_empty() && !authority.contains('@')).then_some((scheme, authority))
}

/// Lowercase, without the scheme's default port, so `Example.com:80` equals `example.com`.
fn normalise(authority: &str, scheme: &str) -> String {
    let authority = authority.trim().to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    authority
        .strip_suffix(default_port)
        .map(str::to_string)
        .unwrap_or(authority)
}

fn json_error(error: AppError) -> Response {
    (error.status_code(), Json(error)).into_response()
}

fn error_response(api: bool, error: AppError) -> Response {
    if api {
        json_error(error)
    } else {
        (error.status_code(), error.to_string()).into_response()
    }
}

fn redirect_to_login(request: &Request) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let location = format!("/login?next={}", crate::web::encode_component(&target));
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
        Err(_) => (StatusCode::SEE_OTHER, [(LOCATION, "/login")]).into_response(),
    }
}

fn forbidden_page(role: Option<super::Role>, needed: super::Role) -> Response {
    let yours = role.map_or("no role", |r| r.label());
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not allowed · \
         freightdesk</title></head><body><h1>Not allowed</h1><p>This page needs the {} role; \
         you are signed in as {}.</p><p><a href=\"/\">Back to the board</a></p></body></html>\n",
        needed.label(),
        yours
    );
    (
        StatusCode::FORBIDDEN,
        [(CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_compared_by_host_and_port() {
        assert_eq!(
            scheme_and_authority("https://Example.com:8443/x?y"),
            Some(("https", "Example.com:8443"))
        );
        assert_eq!(scheme_and_authority("null"), None);
        assert_eq!(scheme_and_authority("http://a@evil.example/"), None);
        assert_eq!(scheme_and_authority("ftp://example.com"), None);
        assert_eq!(normalise("Example.com:80", "http"), "example.com");
        assert_eq!(normalise("example.com:443", "https"), "example.com");
        assert_eq!(normalise("example.com:80", "https"), "example.com:80");
    }
}
