//! Static files under the site root: the browser bundle (`/pkg/…`) and the public assets.
//!
//! Each file is sent as its precompressed variant when the browser accepts one (`.br`, then
//! `.gz`, written beside it by `scripts/build-site.sh`), with `Vary: Accept-Encoding`. The names
//! carry no content hash, so a cached copy may only be reused once the server has confirmed it
//! is unchanged: `Cache-Control: no-cache` with `Last-Modified` as the validator, answered with
//! `304 Not Modified` while the file stays the same. A rebuilt bundle is new at once.

use crate::app::shell;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeDir;

/// The router's fallback: a file under the site root, or else the app's not-found page.
pub async fn file_or_page(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let files = ServeDir::new(&*state.leptos_options.site_root)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false);
    match files
        .clone()
        .try_call(Request::from_parts(parts.clone(), Body::empty()))
        .await
    {
        Ok(found) if is_served_file(found.status()) => {
            return revalidated(found.map(Body::new));
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, path = parts.uri.path(), "cannot read a static file");
            return (StatusCode::INTERNAL_SERVER_ERROR, "cannot read the file\n").into_response();
        }
    }
    let page = leptos_axum::file_and_error_handler::<AppState, _>(shell);
    page(
        parts.uri.clone(),
        State(state),
        Request::from_parts(parts, body),
    )
    .await
}

/// Not found and "not GET or HEAD" belong to the app (its not-found page); everything else
/// (200, 206, 304, 416) is the file's answer.
fn is_served_file(status: StatusCode) -> bool {
    !matches!(
        status,
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    )
}

fn revalidated(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_missing_files_and_other_methods_go_to_the_app() {
        for (status, served) in [
            (StatusCode::OK, true),
            (StatusCode::PARTIAL_CONTENT, true),
            (StatusCode::NOT_MODIFIED, true),
            (StatusCode::RANGE_NOT_SATISFIABLE, true),
            (StatusCode::NOT_FOUND, false),
            (StatusCode::METHOD_NOT_ALLOWED, false),
        ] {
            assert_eq!(is_served_file(status), served, "{status}");
        }
    }
}
