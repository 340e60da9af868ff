//! The one table that says who may reach what. The middleware consults it on every request, so a
//! new server function is unreachable until someone decides here who may call it.

use super::{Access, CurrentUser, Role};

const DISPATCHER: Access = Access::Role(Role::Dispatcher);
const ADMIN: Access = Access::Role(Role::Admin);

/// (method or `*`, path pattern, access). In a pattern `{name}` matches any one segment and a
/// trailing `/*` matches one or more further segments. The first matching entry wins.
pub const POLICY: &[(&str, &str, Access)] = &[
    // Shipment commands.
    ("*", "/api/shipments/schedule", DISPATCHER),
    ("*", "/api/shipments/pick-up", DISPATCHER),
    ("*", "/api/shipments/record-location", DISPATCHER),
    ("*", "/api/shipments/deliver", DISPATCHER),
    ("*", "/api/shipments/cancel", DISPATCHER),
    // Reads: any role; dispatchers may look at projections too.
    ("*", "/api/shipments/get", Access::SignedIn),
    ("*", "/api/shipments/board", Access::SignedIn),
    ("*", "/api/projections/status", Access::SignedIn),
    ("*", "/api/projections/daily", Access::SignedIn),
    ("*", "/api/projections/compare", Access::SignedIn),
    ("*", "/api/projections/rollout", Access::SignedIn),
    ("*", "/api/projections/samples", Access::SignedIn),
    ("*", "/api/events/list", DISPATCHER),
    // Projection operations.
    ("*", "/api/projections/rebuild", ADMIN),
    ("*", "/api/projections/retry", ADMIN),
    ("*", "/api/projections/cut-over", ADMIN),
    ("*", "/api/projections/retire", ADMIN),
    ("*", "/api/projections/accept-differences", ADMIN),
    ("*", "/api/projections/skip", ADMIN),
    ("*", "/api/projections/acknowledge-skips", ADMIN),
    ("*", "/api/projections/acknowledge-alert", ADMIN),
    ("*", "/api/projections/settings", ADMIN),
    // Signing in and out.
    ("*", "/api/auth/login", Access::Public),
    ("*", "/api/auth/setup", Access::Public),
    ("*", "/api/auth/me", Access::Public),
    ("*", "/api/auth/logout", Access::SignedIn),
    ("*", "/api/auth/change-password", Access::SignedIn),
    // User administration.
    ("*", "/api/users/list", ADMIN),
    ("*", "/api/users/add", ADMIN),
    ("*", "/api/users/disable", ADMIN),
    ("*", "/api/users/enable", ADMIN),
    ("*", "/api/users/reset-password", ADMIN),
    ("*", "/api/users/change-role", ADMIN),
    // Webhook subscriptions.
    ("*", "/api/subscriptions/list", ADMIN),
    ("*", "/api/subscriptions/detail", ADMIN),
    ("*", "/api/subscriptions/create", ADMIN),
    ("*", "/api/subscriptions/pause", ADMIN),
    ("*", "/api/subscriptions/resume", ADMIN),
    ("*", "/api/subscriptions/rewind", ADMIN),
    ("*", "/api/subscriptions/test", ADMIN),
    ("*", "/api/subscriptions/retry", ADMIN),
    ("*", "/api/subscriptions/discard", ADMIN),
    ("*", "/api/subscriptions/retry-all", ADMIN),
    ("*", "/api/subscriptions/discard-all", ADMIN),
    ("*", "/api/subscriptions/delete", ADMIN),
    // Pages.
    ("*", "/", Access::SignedIn),
    ("*", "/shipments/{id}", Access::SignedIn),
    ("*", "/projections", Access::SignedIn),
    ("*", "/projections/{name}", Access::SignedIn),
    ("*", "/events", Access::SignedIn),
    // The explorer's filter as a file: whoever may read the explorer's API.
    ("*", "/events/download", DISPATCHER),
    ("*", "/account", Access::SignedIn),
    ("*", "/users", ADMIN),
    ("*", "/subscriptions", ADMIN),
    ("*", "/subscriptions/{id}", ADMIN),
    ("*", "/login", Access::Public),
    ("*", "/setup", Access::Public),
    // Plain HTTP routes and static files.
    ("*", "/healthz", Access::Public),
    ("*", "/metrics", Access::AdminOrMetricsToken),
    ("*", "/live/*", Access::SignedIn),
    ("*", "/pkg/*", Access::Public),
    ("*", "/favicon.ico", Access::Public),
];

/// Who may reach `path` with `method`. `None` for a path under `/api/` that has no entry: such
/// a request must be refused. Any other unknown path is public, since it can only be a static
/// file or the not-found page.
///
/// Empty segments and percent-escapes are normalised first, so `/projections/` or
/// `/%61pi/users/add` are judged like the routes they may reach.
pub fn access_for(method: &str, path: &str) -> Option<Access> {
    match entry_for(method, path) {
        Some((_, _, access)) => Some(*access),
        None if segments(path).first().is_some_and(|s| s == "api") => None,
        None => Some(Access::Public),
    }
}

/// The entry of `POLICY` that decides for `path` with `method`, if one does.
pub fn entry_for(
    method: &str,
    path: &str,
) -> Option<&'static (&'static str, &'static str, Access)> {
    let segments = segments(path);
    POLICY.iter().find(|(m, pattern, _)| {
        (*m == "*" || m.eq_ignore_ascii_case(method)) && matches(pattern, &segments)
    })
}

/// Why a request may not go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// Nobody is signed in, and this needs someone.
    SignInFirst,
    /// Someone is signed in, but their role does not allow this.
    Forbidden { needed: Role },
}

/// Whether `user` may pass `access`. The metrics token is checked by the middleware before
/// this; here `AdminOrMetricsToken` needs an admin.
pub fn authorize(access: Access, user: Option<&CurrentUser>) -> Result<(), Denied> {
    let needed = match access {
        Access::Public => return Ok(()),
        Access::SignedIn => None,
        Access::Role(role) => Some(role),
        Access::AdminOrMetricsToken => Some(Role::Admin),
    };
    match (user, needed) {
        (None, _) => Err(Denied::SignInFirst),
        (Some(user), Some(needed)) if !user.allows(needed) => Err(Denied::Forbidden { needed }),
        (Some(_), _) => Ok(()),
    }
}

/// Where to go after signing in: `next` if it is a path on this site, else the board.
///
/// Only printable ASCII without backslashes is accepted: browsers drop tabs and newlines from a
/// URL and read `\` as `/`, so `/<TAB>/evil.example` or `/\evil.example` would leave the site,
/// and a control character cannot go into a `Location` header at all. The middleware
/// percent-encodes every `next` it makes, so real return paths pass.
pub fn safe_next(next: &str) -> &str {
    let printable = next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    let path_only = next.starts_with('/') && !next.starts_with("//");
    if printable && path_only {
        next
    } else {
        "/"
    }
}

/// Whether a path is answered by machines (JSON, status codes) rather than shown as a page.
pub fn is_api_path(path: &str) -> bool {
    matches!(
        segments(path).first().map(String::as_str),
        Some("api" | "live" | "metrics")
    )
}

/// Whether `path` matches a route pattern written as in `POLICY`.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    matches(pattern, &segments(path))
}

fn segments(path: &str) -> Vec<String> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(crate::web::decode)
        .collect()
}

fn matches(pattern: &str, path: &[String]) -> bool {
    let pattern: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    if let Some((&"*", fixed)) = pattern.split_last() {
        return path.len() > fixed.len() && segments_match(fixed, &path[..fixed.len()]);
    }
    pattern.len() == path.len() && segments_match(&pattern, path)
}

fn segments_match(pattern: &[&str], path: &[String]) -> bool {
    pattern
        .iter()
        .zip(path)
        .all(|(p, s)| (p.starts_with('{') && p.ends_with('}')) || p == s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_paths_and_one_segment_parameters_match() {
        assert_eq!(access_for("GET", "/"), Some(Access::SignedIn));
        assert_eq!(access_for("GET", "/shipments/abc"), Some(Access::SignedIn));
        assert_eq!(
            access_for("GET", "/projections/board"),
            Some(Access::SignedIn)
        );
        assert_eq!(access_for("GET", "/login?next=%2F"), Some(Access::Public));
        // A parameter matches exactly one segment.
        assert_eq!(access_for("GET", "/shipments"), Some(Access::Public));
        assert_eq!(access_for("GET", "/shipments/a/b"), Some(Access::Public));
    }

    #[test]
    fn a_trailing_star_matches_any_rest_but_not_nothing() {
        assert_eq!(
            access_for("GET", "/live/shipments/1"),
            Some(Access::SignedIn)
        );
        assert_eq!(
            access_for("GET", "/pkg/freightdesk.js"),
            Some(Access::Public)
        );
        assert_eq!(access_for("GET", "/pkg/a/b/c.wasm"), Some(Access::Public));
        assert!(matches("/live/*", &["live".into(), "x".into()]));
        assert!(!matches("/live/*", &["live".into()]));
    }

    #[test]
    fn unknown_api_paths_are_not_allowed_and_other_unknown_paths_are_public() {
        assert_eq!(access_for("POST", "/api/shipments/delete-everything"), None);
        assert_eq!(access_for("POST", "/api"), None);
        assert_eq!(access_for("GET", "/style.css"), Some(Access::Public));
        assert_eq!(access_for("GET", "/no/such/page"), Some(Access::Public));
    }

    #[test]
    fn slashes_and_escapes_do_not_dodge_an_entry() {
        assert_eq!(access_for("GET", "/users/"), Some(ADMIN));
        assert_eq!(access_for("GET", "//users"), Some(ADMIN));
        assert_eq!(access_for("POST", "/%61pi/users/add"), Some(ADMIN));
        assert_eq!(access_for("POST", "/api/users/%61dd"), Some(ADMIN));
    }

    #[test]
    fn admin_operations_are_admin_only() {
        for path in [
            "/api/projections/rebuild",
            "/api/projections/retry",
            "/api/projections/cut-over",
            "/api/projections/retire",
            "/api/users/list",
            "/api/users/add",
            "/api/users/disable",
            "/api/users/enable",
            "/api/users/reset-password",
            "/api/users/change-role",
            "/users",
        ] {
            assert_eq!(access_for("POST", path), Some(ADMIN), "{path}");
        }
        assert_eq!(
            access_for("GET", "/metrics"),
            Some(Access::AdminOrMetricsToken)
        );
    }

    #[test]
    fn commands_need_a_dispatcher_and_reads_any_role() {
        for cmd in [
            "schedule",
            "pick-up",
            "record-location",
            "deliver",
            "cancel",
        ] {
            let path = format!("/api/shipments/{cmd}");
            assert_eq!(access_for("POST", &path), Some(DISPATCHER), "{path}");
        }
        for read in [
            "/api/shipments/get",
            "/api/shipments/board",
            "/api/projections/status",
            "/api/projections/daily",
            "/api/projections/compare",
            "/api/auth/logout",
            "/api/auth/change-password",
        ] {
            assert_eq!(access_for("POST", read), Some(Access::SignedIn), "{read}");
        }
        for open in [
            "/api/auth/login",
            "/api/auth/setup",
            "/api/auth/me",
            "/healthz",
        ] {
            assert_eq!(access_for("POST", open), Some(Access::Public), "{open}");
        }
    }

    #[test]
    fn authorize_needs_a_user_and_a_role_that_allows() {
        let user = |role| CurrentUser {
            name: "ana".into(),
            display_name: "Ana".into(),
            role,
        };
        let (dispatcher, admin) = (user(Role::Dispatcher), user(Role::Admin));
        assert_eq!(authorize(Access::Public, None), Ok(()));
        assert_eq!(authorize(Access::SignedIn, None), Err(Denied::SignInFirst));
        assert_eq!(authorize(Access::SignedIn, Some(&dispatcher)), Ok(()));
        assert_eq!(authorize(DISPATCHER, Some(&admin)), Ok(()));
        let forbidden = Err(Denied::Forbidden {
            needed: Role::Admin,
        });
        assert_eq!(authorize(ADMIN, Some(&dispatcher)), forbidden);
        assert_eq!(
            authorize(Access::AdminOrMetricsToken, Some(&dispatcher)),
            forbidden
        );
        assert_eq!(authorize(Access::AdminOrMetricsToken, Some(&admin)), Ok(()));
        assert_eq!(authorize(ADMIN, None), Err(Denied::SignInFirst));
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/shipments/1?x=2"), "/shipments/1?x=2");
        for bad in [
            "",
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:x",
            "/\t/evil.example/",
            "/\n/evil.example/",
            "/\r\n/evil.example/",
            "/ /evil.example/",
            "/\u{0}",
            "/a\\b",
            "/caf\u{e9}",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn api_paths_are_told_apart_from_pages() {
        assert!(is_api_path("/api/shipments/get"));
        assert!(is_api_path("/live/shipments/1"));
        assert!(is_api_path("/metrics"));
        assert!(!is_api_path("/"));
        assert!(!is_api_path("/apiary"));
        assert!(!is_api_path("/projections"));
    }
}
