//! Security headers on every response. Pages carry a Content-Security-Policy whose script
//! source is the nonce of that one response (so the hydration script runs and nothing
//! injected does); every other response gets a policy that allows no script at all.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

/// For responses that are not pages: nothing may run, be framed or be loaded.
const NO_SCRIPT_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The policy of a page rendered with `nonce`. WebAssembly needs `'wasm-unsafe-eval'` to be
/// compiled; inline `style` attributes (progress bars) need `'unsafe-inline'` for styles only.
pub fn page_policy_for(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Gives every HTML page the policy of the nonce its own scripts carry. The nonce is read from
/// the page itself (the first `<script … nonce="…">`; user text cannot produce a `<script`
/// tag, it is escaped), so header and scripts always agree, whichever way Leptos rendered it.
pub async fn page_policy(request: Request<Body>, next: Next) -> Response {
    const MAX_PAGE_BYTES: usize = 16 * 1024 * 1024;
    let response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html
        || response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE_BYTES).await else {
        tracing::error!("a page could not be read to set its security policy");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Some(value) =
        script_nonce(&bytes).and_then(|nonce| HeaderValue::from_str(&page_policy_for(nonce)).ok())
    {
        parts.headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The nonce of the first script tag that has one.
fn script_nonce(html: &[u8]) -> Option<&str> {
    let html = std::str::from_utf8(html).ok()?;
    let mut rest = html;
    while let Some(at) = rest.find("<script") {
        let tag_end = rest[at..].find('>')? + at;
        let tag = &rest[at..tag_end];
        if let Some(n) = tag.find(" nonce=\"") {
            let value = &tag[n + " nonce=\"".len()..];
            let value = &value[..value.find('"')?];
            let valid = !value.is_empty()
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '/' | '='));
            return valid.then_some(value);
        }
        rest = &rest[tag_end..];
    }
    None
}

/// Browsers that reached us over HTTPS come back only over HTTPS for a year. Not for
/// subdomains: those may be other people's servers.
const STRICT_TRANSPORT: &str = "max-age=31536000";

/// Behind HTTPS (`--secure-cookies`): every cookie any part of the server sets is marked
/// `Secure`, whoever set it, and responses carry `Strict-Transport-Security`.
pub async fn https_only(request: Request<Body>, next: Next) -> Response {
    let mut response = next.run(request).await;
    mark_cookies_secure(response.headers_mut());
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(STRICT_TRANSPORT),
    );
    response
}

fn mark_cookies_secure(headers: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    if cookies.iter().all(is_secure_cookie) {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        match secure_cookie(&cookie) {
            Some(secure) => {
                headers.append(header::SET_COOKIE, secure);
            }
            // Better no cookie than one sent over plain HTTP.
            None => tracing::error!("a cookie that could not be marked Secure was not set"),
        }
    }
}

fn is_secure_cookie(cookie: &HeaderValue) -> bool {
    cookie.to_str().is_ok_and(|c| {
        c.split(';')
            .skip(1)
            .any(|attribute| attribute.trim().eq_ignore_ascii_case("secure"))
    })
}

fn secure_cookie(cookie: &HeaderValue) -> Option<HeaderValue> {
    if is_secure_cookie(cookie) {
        return Some(cookie.clone());
    }
    HeaderValue::from_str(&format!("{}; Secure", cookie.to_str().ok()?)).ok()
}

/// The layers, outermost last: fixed headers overwrite, the default policy fills in.
pub fn layers() -> [SetResponseHeaderLayer<HeaderValue>; 4] {
    let fixed = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    [
        fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        fixed(header::REFERRER_POLICY, "same-origin"),
        fixed(header::X_FRAME_OPTIONS, "DENY"),
        SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(NO_SCRIPT_POLICY),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::{mark_cookies_secure, script_nonce};
    use axum::http::{header, HeaderMap, HeaderValue};

    #[test]
    fn every_cookie_is_marked_secure_once() {
        let mut headers = HeaderMap::new();
        for cookie in [
            "fd_seen=4; HttpOnly; Path=/",
            "freightdesk_session=x; HttpOnly; Secure",
            "a=1; secure",
            "weird=secure",
        ] {
            headers.append(header::SET_COOKIE, HeaderValue::from_static(cookie));
        }
        mark_cookies_secure(&mut headers);
        let cookies: Vec<&str> = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|c| c.to_str().unwrap())
            .collect();
        assert_eq!(
            cookies,
            [
                "fd_seen=4; HttpOnly; Path=/; Secure",
                "freightdesk_session=x; HttpOnly; Secure",
                "a=1; secure",
                "weird=secure; Secure",
            ]
        );
    }

    #[test]
    fn the_nonce_comes_from_the_first_script_that_has_one() {
        let cases: [(&str, Option<&str>); 5] = [
            (
                r#"<head><script type="module" nonce="abc-_1">x</script>"#,
                Some("abc-_1"),
            ),
            (
                r#"<title>nonce="evil"</title><script src="/a.js"></script><script nonce="ok">"#,
                Some("ok"),
            ),
            (r#"<p>&lt;script nonce="evil"&gt;</p>"#, None),
            (r#"<script nonce="bad value">"#, None),
            ("<html></html>", None),
        ];
        for (html, want) in cases {
            assert_eq!(script_nonce(html.as_bytes()), want, "{html}");
        }
    }
}
