//! The client's IP address: the socket peer, or, when the peer is a trusted proxy, the address
//! that the proxies report in `X-Forwarded-For`. The sign-in throttle and the activity log both
//! read it from the request extensions, where [`attach`] puts it.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};

/// IP address of the client that sent the request. IPv4-mapped IPv6 addresses are stored as
/// IPv4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// Returns the key under which the sign-in throttle counts this client: the whole IPv4
    /// address, or the /64 prefix of an IPv6 address, because one IPv6 host usually controls
    /// a whole /64.
    pub fn throttle_key(&self) -> String {
        match self.0 {
            IpAddr::V4(address) => format!("client:{address}"),
            IpAddr::V6(address) => {
                let prefix = u128::from(address) & !(u128::MAX >> 64);
                format!("client:{}/64", std::net::Ipv6Addr::from(prefix))
            }
        }
    }
}

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An IP network in CIDR notation, such as `10.0.0.0/8`. A bare address is a network of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNetwork {
    base: IpAddr,
    prefix_len: u8,
}

impl IpNetwork {
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.base, address.to_canonical()) {
            (IpAddr::V4(base), IpAddr::V4(address)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix_len)).unwrap_or(0);
                u32::from(base) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(base), IpAddr::V6(address)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix_len)).unwrap_or(0);
                u128::from(base) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNetwork {
    type Err = ();

    fn from_str(value: &str) -> Result<Self, ()> {
        let (address, prefix_len) = match value.split_once('/') {
            Some((address, prefix_len)) => (address, Some(prefix_len)),
            None => (value, None),
        };
        let base = IpAddr::from_str(address).map_err(|_| ())?.to_canonical();
        let max_len = if base.is_ipv4() { 32 } else { 128 };
        let prefix_len = match prefix_len {
            Some(prefix_len) => prefix_len.parse::<u8>().map_err(|_| ())?,
            None => max_len,
        };
        if prefix_len > max_len {
            return Err(());
        }
        Ok(IpNetwork { base, prefix_len })
    }
}

/// Networks of the proxies whose `X-Forwarded-For` header is trusted (`RELAIS_TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNetwork>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR networks. Returns `None` if one
    /// item is invalid.
    pub fn parse(value: &str) -> Option<Self> {
        value
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| item.parse().ok())
            .collect::<Option<Vec<_>>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(address))
    }

    /// Returns the client's address for a request from `peer`.
    ///
    /// An untrusted peer is the client, whatever its headers contain. From a trusted peer, the
    /// `X-Forwarded-For` entries are read from the right (the entry the nearest proxy added),
    /// skipping trusted proxies. The first untrusted entry is the client. An unparsable entry
    /// stops the walk at the proxy that forwarded it, because entries to its left may be forged.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> ClientAddress {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return ClientAddress(client);
        }
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        for entry in forwarded.into_iter().rev() {
            let Some(address) = parse_forwarded_entry(entry) else {
                break;
            };
            client = address.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        ClientAddress(client)
    }
}

/// Parses one `X-Forwarded-For` entry: an IP address, optionally with a port.
fn parse_forwarded_entry(entry: &str) -> Option<IpAddr> {
    IpAddr::from_str(entry)
        .ok()
        .or_else(|| SocketAddr::from_str(entry).ok().map(|socket| socket.ip()))
}

/// Puts the request's [`ClientAddress`] into its extensions. The server must be started with
/// connection info (`into_make_service_with_connect_info::<SocketAddr>`).
pub async fn attach(State(proxies): State<Arc<TrustedProxies>>, mut request: Request, next: Next) -> Response {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>().copied() else {
        tracing::error!("the request has no peer address: the server was started without connection info");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let client = proxies.client_address(peer.ip(), request.headers());
    request.extensions_mut().insert(client);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded_for: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded_for {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn ip(value: &str) -> IpAddr {
        value.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_ignores_forwarded_for() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let client = proxies.client_address(ip("203.0.113.9"), &headers(&["198.51.100.1"]));
        assert_eq!(client.0, ip("203.0.113.9"));

        let none = TrustedProxies::default();
        let client = none.client_address(ip("10.0.0.1"), &headers(&["198.51.100.1"]));
        assert_eq!(client.0, ip("10.0.0.1"));
    }

    #[test]
    fn trusted_peer_uses_rightmost_untrusted_entry() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, ::1").unwrap();
        let forged_then_real = headers(&["192.0.2.66, 198.51.100.1", "10.1.2.3"]);
        let client = proxies.client_address(ip("10.0.0.1"), &forged_then_real);
        assert_eq!(client.0, ip("198.51.100.1"));

        let client = proxies.client_address(ip("::1"), &headers(&["[2001:db8::5]:4711"]));
        assert_eq!(client.0, ip("2001:db8::5"));
    }

    #[test]
    fn trusted_peer_stops_at_invalid_entry() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let client = proxies.client_address(ip("10.0.0.1"), &headers(&["198.51.100.1, unknown"]));
        assert_eq!(client.0, ip("10.0.0.1"));

        let client = proxies.client_address(ip("10.0.0.1"), &HeaderMap::new());
        assert_eq!(client.0, ip("10.0.0.1"));
    }

    #[test]
    fn network_parsing_and_matching() {
        let network: IpNetwork = "192.168.0.0/16".parse().unwrap();
        assert!(network.contains(ip("192.168.4.5")));
        assert!(network.contains(ip("::ffff:192.168.4.5")));
        assert!(!network.contains(ip("192.169.0.1")));
        assert!("0.0.0.0/0".parse::<IpNetwork>().unwrap().contains(ip("8.8.8.8")));
        assert!("10.0.0.0/33".parse::<IpNetwork>().is_err());
        assert!("example.com".parse::<IpNetwork>().is_err());
        assert!(TrustedProxies::parse("10.0.0.1, nope").is_none());
    }

    #[test]
    fn throttle_key_groups_ipv6_by_64() {
        let first = ClientAddress(ip("2001:db8:1:2:aaaa::1"));
        let second = ClientAddress(ip("2001:db8:1:2:bbbb::2"));
        let other = ClientAddress(ip("2001:db8:1:3::1"));
        assert_eq!(first.throttle_key(), "client:2001:db8:1:2::/64");
        assert_eq!(first.throttle_key(), second.throttle_key());
        assert_ne!(first.throttle_key(), other.throttle_key());
        assert_eq!(ClientAddress(ip("192.0.2.1")).throttle_key(), "client:192.0.2.1");
    }
}
