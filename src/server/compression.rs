//! Compressing what the server writes itself: pages, server-function answers (JSON) and
//! error pages, as `br` or `gzip`, whichever the client prefers (brotli when both are
//! equally welcome), with `Vary: Accept-Encoding`. The board page with 50 rows is about
//! 74 KB of HTML and a seventh of that gzipped.
//!
//! Left alone: static files, which carry their precompressed variant's `Content-Encoding`
//! already (`static_files`); live feeds (`text/event-stream`), because a compressor holds
//! bytes back until it has enough to compress, and an event held back is an update that does
//! not arrive; and bodies too small to gain.

use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Brotli's and gzip's quality. Brotli's default (11) is made for files compressed once and
/// sent many times and costs tens of milliseconds per page; 4 keeps most of the size gain
/// for a small part of the work.
const QUALITY: i32 = 4;

/// Smaller bodies go out as they are: the encoding's framing would eat most of the gain.
const MIN_BYTES: u16 = 256;

pub fn layer() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .quality(CompressionLevel::Precise(QUALITY))
        .compress_when(
            SizeAbove::new(MIN_BYTES)
                .and(NotForContentType::SSE)
                .and(NotForContentType::IMAGES),
        )
}
