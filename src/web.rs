//! The web's small text formats, from the crates that implement them: percent-encoding of URL
//! parts (shared with the browser) and, on the server, reading and writing cookies.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986's unreserved characters is escaped: the result fits in any one
/// part of a URL (a path segment, a query value), `/` and `?` included.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` escaped to stand as one part of a URL.
pub fn encode_component(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// `%XX` escapes decoded; an invalid escape is kept as it is, bytes that are not UTF-8 become
/// U+FFFD.
pub fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

#[cfg(feature = "ssr")]
pub use cookies::{cookie_values, set_cookie, SetCookie};

#[cfg(feature = "ssr")]
mod cookies {
    use cookie::{Cookie, SameSite};
    use http::header::COOKIE;
    use http::HeaderMap;

    /// The values of every cookie called `name` in the request's `Cookie` headers, in order.
    /// Malformed pairs are skipped.
    pub fn cookie_values<'h>(
        headers: &'h HeaderMap,
        name: &'h str,
    ) -> impl Iterator<Item = String> + 'h {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|h| h.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .filter(move |c| c.name() == name)
            .map(|c| c.value().trim().to_string())
    }

    /// A cookie as the server sets them all: for the whole site, never sent by other sites'
    /// pages, and `Secure` behind HTTPS.
    pub struct SetCookie<'a> {
        pub name: &'a str,
        pub value: &'a str,
        pub max_age_secs: u64,
        /// Not readable by the page's scripts.
        pub http_only: bool,
        pub secure: bool,
    }

    /// The `Set-Cookie` value. A value with characters a header cannot carry is the caller's
    /// to refuse (see `HeaderValue::from_str` at each caller).
    pub fn set_cookie(c: SetCookie<'_>) -> String {
        Cookie::build((c.name, c.value))
            .http_only(c.http_only)
            .same_site(SameSite::Strict)
            .path("/")
            .max_age(cookie::time::Duration::seconds(
                i64::try_from(c.max_age_secs).unwrap_or(i64::MAX),
            ))
            .secure(c.secure)
            .build()
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_escapes_everything_but_unreserved_characters() {
        assert_eq!(encode_component("/"), "%2F");
        assert_eq!(
            encode_component("/shipments/a-1?x=1&y"),
            "%2Fshipments%2Fa-1%3Fx%3D1%26y"
        );
        assert_eq!(encode_component("Zürich ~"), "Z%C3%BCrich%20~");
        assert_eq!(decode("Z%C3%BCrich%20~"), "Zürich ~");
    }

    #[test]
    fn invalid_escapes_are_kept() {
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("%zz%41"), "%zzA");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn cookies_are_read_among_others_and_set_locked_down() {
        use http::{HeaderMap, HeaderValue};
        let mut headers = HeaderMap::new();
        headers.append(
            http::header::COOKIE,
            HeaderValue::from_static("a=1; fd=x; b=2"),
        );
        headers.append(http::header::COOKIE, HeaderValue::from_static("fd=y"));
        let values: Vec<String> = cookie_values(&headers, "fd").collect();
        assert_eq!(values, ["x", "y"]);
        let set = set_cookie(SetCookie {
            name: "fd",
            value: "1",
            max_age_secs: 300,
            http_only: true,
            secure: true,
        });
        assert_eq!(
            set,
            "fd=1; HttpOnly; SameSite=Strict; Secure; Path=/; Max-Age=300"
        );
    }
}
