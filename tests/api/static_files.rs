//! Static files over a real server: the precompressed variant the browser accepts, the cache
//! headers, revalidation, and a body that decodes to exactly the file `make build-site` wrote.

use crate::helpers::{spawn_app, Dialect};
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, IF_MODIFIED_SINCE,
    LAST_MODIFIED, VARY,
};
use std::io::Read;

/// What the browser downloads on every page.
const BUNDLE: [(&str, &str); 3] = [
    ("freightdesk.wasm", "application/wasm"),
    ("freightdesk.js", "text/javascript"),
    ("freightdesk.css", "text/css"),
];

fn built_file(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/site/pkg")
        .join(name);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `make build-site` first", path.display()))
}

fn decode(encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        None => out.extend_from_slice(body),
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("a valid gzip body");
        }
        Some("br") => {
            brotli_decompressor::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .expect("a valid brotli body");
        }
        Some(other) => panic!("unexpected Content-Encoding {other}"),
    }
    out
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    response
        .headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn the_bundle_is_sent_in_the_encoding_the_browser_accepts() {
    let app = spawn_app(Dialect::Sqlite).await;
    // No automatic decompression: the test sees the bytes on the wire.
    let client = reqwest::Client::new();
    for (name, content_type) in BUNDLE {
        let file = built_file(name);
        for (accepted, expected) in [
            (Some("gzip, deflate, br, zstd"), Some("br")),
            (Some("gzip"), Some("gzip")),
            (Some("br;q=0.1, gzip;q=0.9"), Some("gzip")),
            (None, None),
        ] {
            let mut request = client.get(format!("{}/pkg/{name}", app.address));
            if let Some(accepted) = accepted {
                request = request.header(ACCEPT_ENCODING, accepted);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{name} with {accepted:?}");
            let encoding = response
                .headers()
                .get(CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap().to_string());
            assert_eq!(encoding.as_deref(), expected, "{name} with {accepted:?}");
            assert!(header(&response, CONTENT_TYPE).starts_with(content_type));
            assert_eq!(header(&response, CACHE_CONTROL), "no-cache");
            assert!(header(&response, VARY).contains("accept-encoding"));
            assert!(!header(&response, LAST_MODIFIED).is_empty());
            let body = response.bytes().await.unwrap();
            if expected.is_some() {
                assert!(body.len() < file.len(), "{name}: compressed is smaller");
            }
            assert!(
                decode(expected, &body) == file,
                "{name} with {accepted:?}: the decoded body is the built file"
            );
        }
    }
}

#[tokio::test]
async fn an_unchanged_file_is_confirmed_not_sent_again() {
    let app = spawn_app(Dialect::Sqlite).await;
    let client = reqwest::Client::new();
    let url = format!("{}/pkg/freightdesk.wasm", app.address);
    let first = client
        .get(&url)
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    let last_modified = header(&first, LAST_MODIFIED).to_string();
    let again = client
        .get(&url)
        .header(ACCEPT_ENCODING, "br")
        .header(IF_MODIFIED_SINCE, &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, CACHE_CONTROL), "no-cache");
    assert!(again.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_missing_file_gets_the_not_found_page() {
    let app = spawn_app(Dialect::Sqlite).await;
    let response = reqwest::Client::new()
        .get(format!("{}/pkg/no-such-file.js", app.address))
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(header(&response, CONTENT_TYPE).starts_with("text/html"));
    // Pages are compressed as the client asks; whatever the encoding, the body is the page
    // itself, not the bytes of some precompressed file.
    let encoding = response
        .headers()
        .get(CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap().to_string());
    let body = response.bytes().await.unwrap();
    let page = crate::board_indexes::decoded(encoding.as_deref(), &body);
    assert!(page.to_lowercase().starts_with("<!doctype html"), "{page}");
}
