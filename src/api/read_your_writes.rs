//! Read-your-writes: after a command, the reads of the person who gave it reflect it.
//!
//! A command answers with the position (global seq) of the last event it appended and sets it
//! in the `fd_seen` cookie, so the next page load carries it even without JavaScript. A read
//! server function then waits, up to a bound, until the live version of its projection has
//! passed that position, and says so when it gave up ("catching up") instead of failing.
//! Nothing a client sends can make a read wait longer than the bound or fail: the cookie is
//! parsed leniently, and a position that names no event has nothing to wait for.

use crate::domain::FieldError;
use crate::error::AppError;
use crate::projections::versions;
use crate::state::AppState;
use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderValue};
use std::time::Duration;

/// The cookie that carries the position of the user's latest command.
pub const SEEN_COOKIE: &str = "fd_seen";
/// How long a read waits for the projection before it answers with what it has.
pub const WAIT_BOUND: Duration = Duration::from_secs(2);
/// How long the cookie lives: long enough for the next page load, short enough to expire.
const SEEN_MAX_AGE_SECS: u64 = 300;
/// The checkpoint advances in the daemon's transaction, which announces nothing: poll it.
const POLL: Duration = Duration::from_millis(20);

/// `Set-Cookie` remembering `seq` for the next page load; scripts cannot read it and other
/// sites' pages never send it.
pub fn seen_cookie(seq: i64, secure: bool) -> HeaderValue {
    let value = crate::web::set_cookie(crate::web::SetCookie {
        name: SEEN_COOKIE,
        value: &seq.to_string(),
        max_age_secs: SEEN_MAX_AGE_SECS,
        http_only: true,
        secure,
    });
    // Digits and fixed text only: always a valid header value.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The highest well-formed position among the `fd_seen` cookies; anything else is ignored.
pub fn seen_in(headers: &HeaderMap) -> Option<i64> {
    crate::web::cookie_values(headers, SEEN_COOKIE)
        .filter_map(|v| v.parse::<i64>().ok())
        .filter(|seq| *seq > 0)
        .max()
}

/// An explicit `wait_for` argument: empty (or 0) is none; anything but a position is a 400,
/// since a script that sends one wants to know it was not understood.
pub fn parse_wait_for(raw: &str) -> Result<Option<i64>, AppError> {
    match raw.trim() {
        "" => Ok(None),
        s => match s.parse::<i64>() {
            Ok(0) => Ok(None),
            Ok(seq) if seq > 0 => Ok(Some(seq)),
            _ => Err(AppError::validation(FieldError::new(
                "wait_for",
                "must be a position in the event log (a whole number)",
            ))),
        },
    }
}

/// Sets the `fd_seen` cookie on the response being built, so the user's next read waits for
/// their own command. Outside a request (no response to set it on) it does nothing.
pub fn remember(state: &AppState, seq: i64) {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        let secure = state.auth.config().secure_cookies;
        // Never lower it: with two tabs, the answer that arrives last may be the older one.
        let seq = requested(Some(seq)).unwrap_or(seq);
        response.append_header(SET_COOKIE, seen_cookie(seq, secure));
    }
}

/// The position this request asks to see: the larger of `explicit` and the cookie.
fn requested(explicit: Option<i64>) -> Option<i64> {
    let cookie = leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| seen_in(&parts.headers));
    explicit.max(cookie)
}

/// For read server functions: waits (up to [`WAIT_BOUND`]) until the live version of
/// `projection` reflects the request's position (`wait_for` and the cookie). True when it
/// does (or nothing was asked), false when the read should say it is catching up.
pub async fn catch_up(
    state: &AppState,
    projection: &str,
    wait_for: &str,
) -> Result<bool, AppError> {
    match requested(parse_wait_for(wait_for)?) {
        None => Ok(true),
        Some(seq) => wait_for_live(state, projection, seq, WAIT_BOUND).await,
    }
}

/// Waits until the live version of `projection` has passed event `seq`, at most `bound`.
/// True when it has; false when the bound ran out first.
#[tracing::instrument(skip(state))]
pub async fn wait_for_live(
    state: &AppState,
    projection: &str,
    seq: i64,
    bound: Duration,
) -> Result<bool, AppError> {
    let waiting = async {
        loop {
            if live_has_passed(state, projection, seq).await? {
                return Ok(true);
            }
            tokio::time::sleep(POLL).await;
        }
    };
    match tokio::time::timeout(bound, waiting).await {
        Ok(outcome) => outcome,
        Err(_) => {
            tracing::info!(
                projection,
                seq,
                "read served before the projection caught up"
            );
            Ok(false)
        }
    }
}

/// Looks the live version up each time: a cutover while waiting switches to the new one.
async fn live_has_passed(state: &AppState, projection: &str, seq: i64) -> Result<bool, AppError> {
    let Some((def, _)) = versions::live(&state.db, projection).await? else {
        // Nothing serves reads: the read itself reports that; waiting would not help.
        return Ok(true);
    };
    let checkpoint = versions::load(&state.db, def).await?.checkpoint;
    Ok(state.store.has_passed(&checkpoint, seq).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::COOKIE;

    fn headers(cookies: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for c in cookies {
            headers.append(COOKIE, HeaderValue::from_static(c));
        }
        headers
    }

    #[test]
    fn the_cookie_is_locked_down_and_short_lived() {
        let cookie = seen_cookie(42, true);
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.starts_with("fd_seen=42;"), "{cookie}");
        for part in [
            "HttpOnly",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=300",
            "Secure",
        ] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!seen_cookie(42, false).to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn the_position_is_read_leniently() {
        assert_eq!(seen_in(&headers(&["a=1; fd_seen=17; b=2"])), Some(17));
        assert_eq!(seen_in(&headers(&["fd_seen=9", "fd_seen=12"])), Some(12));
        for garbage in [
            "fd_seen=abc",
            "fd_seen=",
            "fd_seen=-5",
            "fd_seen=0",
            "fd_seen=99999999999999999999999",
            "fd_seen=1e9",
            "fd_seenx=3",
        ] {
            assert_eq!(seen_in(&headers(&[garbage])), None, "{garbage}");
        }
        assert_eq!(seen_in(&headers(&["fd_seen=abc; fd_seen=4"])), Some(4));
        assert_eq!(seen_in(&HeaderMap::new()), None);
    }

    #[test]
    fn an_explicit_position_must_be_one() {
        assert_eq!(parse_wait_for("").unwrap(), None);
        assert_eq!(parse_wait_for(" 0 ").unwrap(), None);
        assert_eq!(parse_wait_for("31").unwrap(), Some(31));
        for bad in ["abc", "-1", "1.5", "99999999999999999999999"] {
            assert!(
                matches!(parse_wait_for(bad), Err(AppError::Validation { .. })),
                "{bad}"
            );
        }
    }
}
