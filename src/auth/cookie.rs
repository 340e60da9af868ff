//! The session cookie: how it is set, cleared and read.

use super::{sessions, AuthConfig};
use crate::web::{cookie_values, set_cookie, SetCookie};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "freightdesk_session";

/// `Set-Cookie` for a new session: not readable by scripts, never sent by other sites' pages,
/// and gone when the session's absolute lifetime is over.
pub fn session_cookie(token: &str, config: &AuthConfig) -> HeaderValue {
    if !sessions::well_formed(token) {
        return clear_session_cookie();
    }
    let value = set_cookie(SetCookie {
        name: SESSION_COOKIE,
        value: token,
        max_age_secs: config.absolute.as_secs(),
        http_only: true,
        secure: config.secure_cookies,
    });
    HeaderValue::from_str(&value).unwrap_or_else(|_| clear_session_cookie())
}

/// `Set-Cookie` that removes the session cookie (signing out).
pub fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_static("freightdesk_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// The session token from the `Cookie` headers, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie_values(headers, SESSION_COOKIE)
        .next()
        .filter(|t| !t.is_empty())
}

pub(crate) fn sets_session_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .any(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::COOKIE;

    #[test]
    fn the_cookie_is_locked_down() {
        let token = "ab".repeat(32);
        let config = AuthConfig {
            secure_cookies: true,
            ..AuthConfig::default()
        };
        let cookie = session_cookie(&token, &config);
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.starts_with(&format!("freightdesk_session={token};")));
        for part in [
            "HttpOnly",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=604800",
            "Secure",
        ] {
            assert!(cookie.contains(part), "{cookie}");
        }
        let plain = session_cookie(&token, &AuthConfig::default());
        assert!(!plain.to_str().unwrap().contains("Secure"));
        assert_eq!(
            session_cookie("x\r\nSet-Cookie: y", &config),
            clear_session_cookie()
        );
    }

    #[test]
    fn the_token_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("a=1; freightdesk_session=abc; b=2"),
        );
        assert_eq!(session_token(&headers).as_deref(), Some("abc"));
        assert_eq!(session_token(&HeaderMap::new()), None);
    }
}
