//! Where deliveries may go, and the HTTP client that takes them there. A webhook target is a
//! URL an admin typed, so the server must not become a way to reach its own network: only
//! http(s), no credentials in the URL, no redirects, and (unless allowed) no private, loopback
//! or link-local address, checked on the addresses DNS actually returned at connect time.

use crate::domain::FieldError;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Allow targets on private, loopback and link-local addresses (on-premises receivers,
    /// tests). Off by default.
    pub allow_private_targets: bool,
    /// One attempt, connect to last byte.
    pub timeout: Duration,
    /// The wait after the first failure; doubled per further failure up to `retry_cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Deliveries of one subscription in flight at once.
    pub concurrency: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(2),
            retry_cap: Duration::from_secs(600),
            concurrency: 4,
        }
    }
}

const URL_MAX_CHARS: usize = 2000;

/// Parses a target URL as an admin typed it.
pub fn parse_target_url(input: &str, allow_private: bool) -> Result<Url, FieldError> {
    let field = "target_url";
    let input = input.trim();
    if input.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if input.chars().count() > URL_MAX_CHARS {
        return Err(FieldError::new(
            field,
            format!("is longer than {URL_MAX_CHARS} characters"),
        ));
    }
    let url =
        Url::parse(input).map_err(|e| FieldError::new(field, format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FieldError::new(
            field,
            "must start with http:// or https://",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(FieldError::new(field, "has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(
            field,
            "must not contain a user name or password (the signature authenticates deliveries)",
        ));
    }
    if let Some(ip) = literal_ip(&url) {
        if !allow_private && !is_public(ip) {
            return Err(FieldError::new(field, private_address_message(ip)));
        }
    }
    Ok(url)
}

/// How long a name may take to resolve when a subscription is created.
const RESOLVE_AT_CREATION_FOR: Duration = Duration::from_secs(5);

/// Refuses a target whose host name resolves (now) to an address we may not call, with the
/// same message the connect-time filter gives, so an admin learns at once what every delivery
/// would otherwise be dead-lettered for. The connect-time filter stays: DNS can change later.
pub async fn check_target_resolves(url: &Url, allow_private: bool) -> Result<(), FieldError> {
    let field = "target_url";
    if allow_private || literal_ip(url).is_some() {
        return Ok(());
    }
    let Some(host) = url.host_str() else {
        return Err(FieldError::new(field, "has no host"));
    };
    let addresses = resolve_at_creation(host, url.port_or_known_default().unwrap_or(80))
        .await
        .map_err(|reason| FieldError::new(field, reason))?;
    match addresses.iter().find(|ip| !is_public(**ip)) {
        Some(ip) => Err(FieldError::new(
            field,
            resolves_to_private_message(host, *ip),
        )),
        None => Ok(()),
    }
}

/// The addresses of `host`. Names under `localhost` are loopback by definition (RFC 6761),
/// whatever a resolver says, with or without the trailing dot of a fully qualified name.
async fn resolve_at_creation(host: &str, port: u16) -> Result<Vec<IpAddr>, String> {
    let name = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    }
    let lookup = tokio::net::lookup_host((name.as_str(), port));
    let found = tokio::time::timeout(RESOLVE_AT_CREATION_FOR, lookup)
        .await
        .map_err(|_| {
            format!(
                "{host} did not resolve within {} s; check the host name",
                RESOLVE_AT_CREATION_FOR.as_secs()
            )
        })?
        .map_err(|e| format!("{host} cannot be resolved ({e}); check the host name"))?;
    let addresses: Vec<IpAddr> = found.map(|a| a.ip()).collect();
    if addresses.is_empty() {
        return Err(format!("{host} has no address"));
    }
    Ok(addresses)
}

fn resolves_to_private_message(host: &str, ip: IpAddr) -> String {
    format!("{host} resolves to {ip}: {}", private_address_message(ip))
}

/// The address in the URL when its host is an IP literal (no DNS is asked for those).
pub fn literal_ip(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

pub fn private_address_message(ip: IpAddr) -> String {
    format!(
        "{ip} is a private, loopback or link-local address; set FREIGHTDESK_WEBHOOK_ALLOW_PRIVATE=1 \
         to allow on-premises receivers"
    )
}

/// True for addresses on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || (first == 0x0064 && ip.segments()[1] == 0xff9b)) // NAT64 maps to IPv4 we cannot judge
}

/// Why a connection was not made: the name resolved only to addresses we may not call.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BlockedTarget(String);

/// Resolves names with the system resolver, then drops every address we may not call, so a
/// name that points (or is re-pointed) at an internal address is refused at connect time.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            match (allowed.is_empty(), found.first()) {
                (false, _) => Ok(Box::new(allowed.into_iter()) as Addrs),
                (true, Some(first)) => Err(Box::new(BlockedTarget(resolves_to_private_message(
                    &host,
                    first.ip(),
                )))
                    as Box<dyn std::error::Error + Send + Sync>),
                (true, None) => Err(format!("{host} has no address").into()),
            }
        })
    }
}

/// The client every delivery goes through: no redirects, a whole-request timeout, the guarded
/// resolver.
pub fn client(config: &WebhookConfig) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .dns_resolver(Arc::new(GuardedResolver {
            allow_private: config.allow_private_targets,
        }))
        .user_agent(concat!("freightdesk-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Whether a send failed because the resolver refused every address.
pub fn blocked_reason(error: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(blocked) = e.downcast_ref::<BlockedTarget>() {
            return Some(blocked.0.clone());
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_judged_public_or_not() {
        let table = [
            ("8.8.8.8", true),
            ("93.184.216.34", true),
            ("2606:4700::1111", true),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("192.168.1.1", false),
            ("127.0.0.1", false),
            ("169.254.169.254", false), // cloud metadata
            ("100.64.0.1", false),
            ("0.0.0.0", false),
            ("255.255.255.255", false),
            ("224.0.0.1", false),
            ("::1", false),
            ("::", false),
            ("fe80::1", false),
            ("fd00::1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:8.8.8.8", true),
            ("64:ff9b::a00:1", false),
        ];
        for (ip, public) in table {
            assert_eq!(is_public(ip.parse().unwrap()), public, "{ip}");
        }
    }

    #[test]
    fn target_urls_are_checked_at_the_edge() {
        assert!(parse_target_url("https://partner.example/hooks", false).is_ok());
        assert!(parse_target_url("http://203.0.113.7:8080/x", false).is_err()); // documentation
        let refused = [
            "",
            "ftp://partner.example/",
            "file:///etc/passwd",
            "https://user:pw@partner.example/",
            "http://127.0.0.1:9000/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data",
            "not a url",
        ];
        for url in refused {
            assert!(parse_target_url(url, false).is_err(), "{url:?}");
        }
        assert!(parse_target_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(parse_target_url("javascript:alert(1)", true).is_err());
    }

    #[tokio::test]
    async fn loopback_names_are_refused_like_loopback_addresses() {
        for target in [
            "http://localhost:8080/",
            "http://localhost./",
            "http://LOCALHOST/x",
            "http://app.localhost./",
            "http://127.0.0.1./",
            "http://2130706433/",
        ] {
            let refused = match parse_target_url(target, false) {
                Err(e) => e,
                Ok(url) => check_target_resolves(&url, false).await.expect_err(target),
            };
            assert!(
                refused
                    .message
                    .contains("127.0.0.1 is a private, loopback or link-local address"),
                "{target}: {}",
                refused.message
            );
        }
        let url = parse_target_url("http://localhost./", true).unwrap();
        assert!(check_target_resolves(&url, true).await.is_ok());
    }
}
