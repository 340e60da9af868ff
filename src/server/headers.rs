//! Security headers on every response. Pages carry a Content-Security-Policy whose script
//! source is the nonce of that one response (so the hydration script runs and nothing
//! injected does); every other response gets a policy that allows no script at all.

use axum::http::{header, HeaderName, HeaderValue};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_http::set_header::SetResponseHeaderLayer;

/// For responses that are not pages: nothing may run, be framed or be loaded.
const NO_SCRIPT_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The policy of a page rendered with `nonce`. WebAssembly needs `'wasm-unsafe-eval'` to be
/// compiled; inline `style` attributes (progress bars) need `'unsafe-inline'` for styles only.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Called while a page renders: sets that page's policy with the nonce Leptos put on its
/// scripts. Server functions have no nonce and keep the no-script policy.
pub fn set_page_policy() {
    let (Some(nonce), Some(response)) =
        (leptos::nonce::use_nonce(), use_context::<ResponseOptions>())
    else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
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
