//! Who is at the other end: the peer's address, or, when the peer is a reverse proxy the operator
//! named (`FREIGHTDESK_TRUSTED_PROXIES`), the address that proxy says it forwarded for. Sign-in
//! throttling and the logs use it. `X-Forwarded-For` is anyone's to write, so it is believed only
//! from the named proxies, and only as far back as the chain stays within them.

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};

const FORWARDED_FOR: &str = "x-forwarded-for";

/// The client's address as this server believes it, in the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// One address or a network (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    addr: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustedProxiesError {
    #[error("{0:?} is not an IP address or network (e.g. 10.0.0.5, 10.0.0.0/8 or fd00::/8)")]
    NotAnAddress(String),
    #[error("{input:?}: a prefix length of {prefix} is longer than the address ({max} bits)")]
    PrefixTooLong { input: String, prefix: u8, max: u8 },
}

/// The reverse proxies whose `X-Forwarded-For` is believed. Empty by default: none is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// Comma-separated addresses and networks; blanks are ignored.
    pub fn parse(list: &str) -> Result<Self, TrustedProxiesError> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Network::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client behind `peer`: walking `X-Forwarded-For` from the nearest hop back, the first
    /// address that is not one of our proxies. A hop that is not an address stops the walk at
    /// the proxy that wrote it, since what lies beyond is unknown.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        for hop in forwarded_hops(headers).into_iter().rev() {
            let Some(hop) = parse_hop(&hop) else {
                break;
            };
            client = hop;
            if !self.contains(hop) {
                break;
            }
        }
        client
    }
}

impl Network {
    fn parse(input: &str) -> Result<Self, TrustedProxiesError> {
        let not_an_address = || TrustedProxiesError::NotAnAddress(input.to_string());
        let (addr, prefix) = match input.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (input, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| not_an_address())?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.trim().parse::<u8>().map_err(|_| not_an_address())?,
        };
        if prefix > max {
            return Err(TrustedProxiesError::PrefixTooLong {
                input: input.to_string(),
                prefix,
                max,
            });
        }
        Ok(Self { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix(
                u128::from(net.to_bits()) << 96,
                u128::from(ip.to_bits()) << 96,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(net.to_bits(), ip.to_bits(), self.prefix)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` bits of two left-aligned addresses agree.
fn same_prefix(a: u128, b: u128, prefix: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    (a & mask) == (b & mask)
}

/// Every `X-Forwarded-For` entry, in order, across repeated headers.
fn forwarded_hops(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(FORWARDED_FOR)
        .iter()
        .map(|v| v.to_str().unwrap_or("?"))
        .flat_map(|v| v.split(','))
        .map(|hop| hop.trim().to_string())
        .collect()
}

/// An entry as proxies write it: `1.2.3.4`, `2001:db8::1`, `1.2.3.4:5678` or `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    hop.parse::<SocketAddr>()
        .ok()
        .map(|s| s.ip().to_canonical())
}

/// Puts the [`ClientAddr`] into every request's extensions, from the connection's peer address
/// and, for a trusted proxy, its `X-Forwarded-For`.
pub async fn identify_client(
    axum::extract::State(proxies): axum::extract::State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let client = proxies.client_of(peer, request.headers());
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(FORWARDED_FOR, HeaderValue::from_static(v));
        }
        headers
    }

    #[test]
    fn lists_parse_or_say_what_is_wrong() {
        let proxies = TrustedProxies::parse(" 10.0.0.5, 192.168.0.0/16 ,fd00::/8,").unwrap();
        assert!(proxies.contains(ip("10.0.0.5")));
        assert!(!proxies.contains(ip("10.0.0.6")));
        assert!(proxies.contains(ip("192.168.44.1")));
        assert!(proxies.contains(ip("::ffff:192.168.1.1")));
        assert!(proxies.contains(ip("fd12::1")));
        assert!(!proxies.contains(ip("fe80::1")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("8.8.8.8")));
        assert_eq!(
            TrustedProxies::parse("10.0.0.0/33"),
            Err(TrustedProxiesError::PrefixTooLong {
                input: "10.0.0.0/33".into(),
                prefix: 33,
                max: 32
            })
        );
        for bad in ["proxy.local", "10.0.0.1/x", "10.0.0/8", "1.2.3.4:80"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(none.client_of(ip("10.0.0.5"), &headers), ip("10.0.0.5"));

        let proxies = TrustedProxies::parse("10.0.0.0/24").unwrap();
        assert_eq!(
            proxies.client_of(ip("10.0.0.5"), &headers),
            ip("203.0.113.9")
        );
        // From a peer that is not a proxy, the header is the peer's own claim.
        assert_eq!(
            proxies.client_of(ip("198.51.100.1"), &headers),
            ip("198.51.100.1")
        );
        // Without the header the proxy itself is the client.
        assert_eq!(
            proxies.client_of(ip("10.0.0.5"), &HeaderMap::new()),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn the_chain_is_walked_back_only_through_trusted_hops() {
        let proxies = TrustedProxies::parse("10.0.0.0/24").unwrap();
        let peer = ip("10.0.0.1");
        // The client wrote "1.1.1.1" itself; our proxies appended the real address after it.
        let spoofed = forwarded(&["1.1.1.1, 203.0.113.9, 10.0.0.7"]);
        assert_eq!(proxies.client_of(peer, &spoofed), ip("203.0.113.9"));
        let repeated = forwarded(&["1.1.1.1", "203.0.113.9:5123"]);
        assert_eq!(proxies.client_of(peer, &repeated), ip("203.0.113.9"));
        let v6 = forwarded(&["[2001:db8::7]:443"]);
        assert_eq!(proxies.client_of(peer, &v6), ip("2001:db8::7"));
        // Garbage stops the walk at the proxy that passed it on.
        let garbage = forwarded(&["203.0.113.9, unknown, 10.0.0.7"]);
        assert_eq!(proxies.client_of(peer, &garbage), ip("10.0.0.7"));
        // Every hop trusted: the farthest one is the client.
        let all_ours = forwarded(&["10.0.0.8, 10.0.0.7"]);
        assert_eq!(proxies.client_of(peer, &all_ours), ip("10.0.0.8"));
    }
}
