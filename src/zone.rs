//! The reader's time zone, one for the whole console: every time is shown in the zone the
//! reader chose (UTC or their browser's own zone), always with the zone named, and a form's date
//! and time is read in the zone the form says it takes. Pure, shared by the server and the
//! browser, so both write exactly the same text. (Where the server's "now" comes from is
//! `time.rs`.)

use crate::domain::FieldError;
use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The cookie that carries the reader's choice: `UTC` or an IANA zone name. Not `HttpOnly`:
/// the browser reads it when it hydrates so it renders what the server rendered. Its name is
/// older than this module's and stays, so readers keep their choice.
pub const ZONE_COOKIE: &str = "fd_clock";

/// The zone times are shown and typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Utc,
    Named(Tz),
}

impl Zone {
    /// `UTC` or an IANA name such as `Europe/Amsterdam`; anything else is no zone.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim() {
            "" => None,
            "UTC" | "utc" | "Etc/UTC" => Some(Self::Utc),
            other => other.parse::<Tz>().ok().map(Self::Named),
        }
    }

    /// The zone from a `Cookie` header value (`a=1; fd_clock=Europe/Amsterdam`); UTC without one.
    pub fn from_cookie_header(header: &str) -> Self {
        let prefix = format!("{ZONE_COOKIE}=");
        header
            .split(';')
            .find_map(|c| c.trim().strip_prefix(prefix.as_str()))
            .and_then(Self::parse)
            .unwrap_or_default()
    }

    /// The `fd_clock` cookie that remembers this zone for a year on every page of the site;
    /// `Secure` on a page served over HTTPS, so it never travels over plain HTTP.
    pub fn cookie(&self, secure: bool) -> String {
        let secure = if secure { "; Secure" } else { "" };
        format!(
            "{ZONE_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Strict{secure}",
            self.name()
        )
    }

    /// What a form's zone field and the cookie carry.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Utc => "UTC",
            Self::Named(tz) => tz.name(),
        }
    }

    /// `2026-12-01 09:00 CET` (with seconds: `2026-12-01 09:00:00 CET`).
    pub fn format(&self, at: DateTime<Utc>, seconds: bool) -> String {
        let pattern = if seconds {
            "%Y-%m-%d %H:%M:%S %Z"
        } else {
            "%Y-%m-%d %H:%M %Z"
        };
        match self {
            Self::Utc => at.format(pattern).to_string(),
            Self::Named(tz) => at.with_timezone(tz).format(pattern).to_string(),
        }
    }

    /// A form's date and time: RFC 3339 carries its own offset; `2026-12-01T09:00` (what a
    /// `datetime-local` input sends) is read in this zone.
    pub fn parse_form_time(&self, field: &str, input: &str) -> Result<DateTime<Utc>, FieldError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(input) {
            return Ok(t.with_timezone(&Utc));
        }
        let naive = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
            .into_iter()
            .find_map(|f| NaiveDateTime::parse_from_str(input, f).ok())
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "is not a date and time (expected e.g. 2026-11-28T14:30)",
                )
            })?;
        let local = match self {
            Self::Utc => return Ok(naive.and_utc()),
            Self::Named(tz) => tz.from_local_datetime(&naive),
        };
        match local {
            LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
            // The hour the clocks go back happens twice: the first is meant more often.
            LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
            LocalResult::None => Err(FieldError::new(
                field,
                format!(
                    "{input} does not exist in {} (the clocks skip that hour)",
                    self.name()
                ),
            )),
        }
    }
}

/// "3 min ago", "in 2 h", "just now": how far `at` is from `now`, coarse enough that the
/// server's render and the browser's hydration a moment later agree.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds();
    let (amount, past) = (seconds.abs(), seconds >= 0);
    let text = match amount {
        0..=59 => return "just now".to_string(),
        60..=3_599 => format!("{} min", amount / 60),
        3_600..=86_399 => format!("{} h", amount / 3_600),
        _ => format!(
            "{} day{}",
            amount / 86_400,
            if amount / 86_400 == 1 { "" } else { "s" }
        ),
    };
    if past {
        format!("{text} ago")
    } else {
        format!("in {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_cookie_is_secure_on_https_pages() {
        let zone = Zone::parse("Europe/Amsterdam").unwrap();
        assert_eq!(
            zone.cookie(true),
            "fd_clock=Europe/Amsterdam; Path=/; Max-Age=31536000; SameSite=Strict; Secure"
        );
        assert!(!Zone::Utc.cookie(false).contains("Secure"));
        assert_eq!(Zone::from_cookie_header(&zone.cookie(true)), zone);
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn zones_parse_from_names_and_cookies() {
        let amsterdam = Zone::Named(chrono_tz::Europe::Amsterdam);
        let cases: [(&str, Option<Zone>); 5] = [
            ("UTC", Some(Zone::Utc)),
            ("Europe/Amsterdam", Some(amsterdam)),
            (" Europe/Amsterdam ", Some(amsterdam)),
            ("Mars/Olympus", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(Zone::parse(name), want, "{name:?}");
        }
        assert_eq!(
            Zone::from_cookie_header("a=1; fd_clock=Europe/Amsterdam; b=2"),
            amsterdam
        );
        assert_eq!(Zone::from_cookie_header("fd_clock=nonsense"), Zone::Utc);
        assert_eq!(Zone::from_cookie_header(""), Zone::Utc);
    }

    #[test]
    fn times_are_written_with_their_zone() {
        let t = at("2026-12-01T08:00:00Z");
        let amsterdam = Zone::Named(chrono_tz::Europe::Amsterdam);
        assert_eq!(Zone::Utc.format(t, false), "2026-12-01 08:00 UTC");
        assert_eq!(amsterdam.format(t, false), "2026-12-01 09:00 CET");
        assert_eq!(
            amsterdam.format(at("2026-07-01T08:00:05Z"), true),
            "2026-07-01 10:00:05 CEST"
        );
    }

    #[test]
    fn form_times_are_read_in_the_zone_the_form_names() {
        let amsterdam = Zone::Named(chrono_tz::Europe::Amsterdam);
        let cases: [(Zone, &str, Result<&str, &str>); 7] = [
            (Zone::Utc, "2026-12-01T08:00", Ok("2026-12-01T08:00:00Z")),
            (amsterdam, "2026-12-01T09:00", Ok("2026-12-01T08:00:00Z")),
            (amsterdam, "2026-07-01T10:00:30", Ok("2026-07-01T08:00:30Z")),
            (
                amsterdam,
                "2026-12-01T09:00:00+01:00",
                Ok("2026-12-01T08:00:00Z"),
            ),
            // 02:30 on the last Sunday of March does not happen in Amsterdam.
            (
                amsterdam,
                "2026-03-29T02:30",
                Err("does not exist in Europe/Amsterdam"),
            ),
            (Zone::Utc, "", Err("is required")),
            (Zone::Utc, "tomorrow", Err("is not a date and time")),
        ];
        for (zone, input, want) in cases {
            let got = zone.parse_form_time("pickup_at", input);
            match want {
                Ok(instant) => assert_eq!(got, Ok(at(instant)), "{input}"),
                Err(message) => {
                    let e = got.unwrap_err();
                    assert_eq!(e.field, "pickup_at");
                    assert!(e.message.contains(message), "{input}: {}", e.message);
                }
            }
        }
    }

    #[test]
    fn relative_times_are_coarse() {
        let now = at("2026-11-29T12:00:00Z");
        let cases: [(&str, &str); 7] = [
            ("2026-11-29T11:59:30Z", "just now"),
            ("2026-11-29T11:57:00Z", "3 min ago"),
            ("2026-11-29T09:00:00Z", "3 h ago"),
            ("2026-11-28T12:00:00Z", "1 day ago"),
            ("2026-11-19T12:00:00Z", "10 days ago"),
            ("2026-11-29T14:00:00Z", "in 2 h"),
            ("2026-11-29T12:00:40Z", "just now"),
        ];
        for (t, want) in cases {
            assert_eq!(relative(at(t), now), want, "{t}");
        }
    }
}
