//! Address checks for SMTP hosts.
//!
//! Users type the SMTP host, so without these checks a send could reach the loopback interface,
//! the private network or a cloud metadata service.

use std::{
    fmt,
    future::Future,
    io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use futures::future::BoxFuture;

use super::failure::FailureKind;

/// Converts the host to its ASCII (punycode) form, or to the canonical IP address for a literal
/// address.
///
/// A name whose last label is a number, such as `127.1`, `2130706433` or `0x7f000001`, is read
/// as an IPv4 address the way URL parsers and `inet_aton` read it. The address check then gets
/// the address that the system resolver would return. Returns `None` for an empty or invalid
/// name, and for such a number that is not a valid IPv4 address.
pub fn host_to_ascii(host: &str) -> Option<String> {
    let host = host.trim();
    let host = host.strip_suffix('.').unwrap_or(host);
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);

    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return Some(ip.to_string());
    }

    // URL parsers decode percent escapes in hosts, and IPv6 zone ids (`fe80::1%eth0`) name a
    // local interface, so neither belongs in an SMTP host.
    if host.is_empty() || host.contains('%') {
        return None;
    }

    if ends_in_number(host) {
        return match url::Host::parse(host) {
            Ok(url::Host::Ipv4(ip)) => Some(ip.to_string()),
            _ => None,
        };
    }

    let ascii = idna::domain_to_ascii(host).ok()?;
    is_host_name(&ascii).then_some(ascii)
}

/// Checks whether the last label is a decimal or `0x` hexadecimal number, which makes the whole
/// name an IPv4 address in the WHATWG URL standard.
fn ends_in_number(host: &str) -> bool {
    let last = host.rsplit('.').next().unwrap_or(host);
    let hex = last
        .strip_prefix("0x")
        .or_else(|| last.strip_prefix("0X"))
        .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()));
    let decimal = !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit());
    hex || decimal
}

/// Checks that every label has 1 to 63 letters, digits or hyphens, because `domain_to_ascii`
/// alone accepts spaces and other URL-safe characters.
fn is_host_name(name: &str) -> bool {
    let label_ok =
        |label: &str| (1..=63).contains(&label.len()) && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    name.len() <= 253 && name.split('.').all(label_ok)
}

/// Checks whether `ip` is in a forbidden range.
///
/// The ranges are loopback, private, link-local, shared, multicast and reserved, plus the IPv6
/// forms that embed such an IPv4 address.
pub fn is_forbidden_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_forbidden_v4(ip),
        IpAddr::V6(ip) => is_forbidden_v6(ip),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [first, second, _, _] = ip.octets();
    let shared_address_space = first == 100 && (second & 0xc0) == 64;
    let this_network = first == 0;
    // 240.0.0.0/4 also contains the broadcast address 255.255.255.255.
    let reserved = first >= 240;

    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || shared_address_space
        || this_network
        || reserved
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = (first & 0xfe00) == 0xfc00;
    let link_local = (first & 0xffc0) == 0xfe80;
    let multicast = (first & 0xff00) == 0xff00;

    if ip.is_unspecified() || ip.is_loopback() || unique_local || link_local || multicast {
        return true;
    }

    embedded_ipv4(ip).into_iter().flatten().any(is_forbidden_v4)
}

/// Extracts the IPv4 addresses that an IPv6 address routes to or through.
fn embedded_ipv4(ip: Ipv6Addr) -> [Option<Ipv4Addr>; 2] {
    let s = ip.segments();
    let o = ip.octets();
    let low = Ipv4Addr::new(o[12], o[13], o[14], o[15]);

    let mapped = s[..5] == [0; 5] && s[5] == 0xffff;
    let compatible = s[..6] == [0; 6];
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4];
    let nat64_local = s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1;
    if mapped || compatible || nat64 || nat64_local {
        return [Some(low), None];
    }

    if s[0] == 0x2002 {
        return [Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])), None];
    }

    // Teredo: the server address follows the prefix, the client address is stored inverted.
    if s[0] == 0x2001 && s[1] == 0 {
        let server = Ipv4Addr::new(o[4], o[5], o[6], o[7]);
        let client = Ipv4Addr::new(!o[12], !o[13], !o[14], !o[15]);
        return [Some(server), Some(client)];
    }

    [None, None]
}

fn is_allowed_target(ascii_host: &str, port: u16, allowed_targets: &[(String, u16)]) -> bool {
    allowed_targets.iter().any(|(host, allowed_port)| {
        *allowed_port == port && host_to_ascii(host).is_some_and(|host| host.eq_ignore_ascii_case(ascii_host))
    })
}

/// Name resolution for SMTP hosts: tokio's `lookup_host` by default, replaceable in tests to
/// control what a name resolves to.
#[derive(Clone)]
pub struct Resolver(Arc<LookupFn>);

/// A function from host name and port to the resolved socket addresses.
type LookupFn = dyn Fn(String, u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> + Send + Sync;

impl Resolver {
    /// Wraps a function that returns the socket addresses for a host name and port.
    pub fn new<F, Output>(resolve: F) -> Self
    where
        F: Fn(String, u16) -> Output + Send + Sync + 'static,
        Output: Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'static,
    {
        Self(Arc::new(move |host, port| Box::pin(resolve(host, port))))
    }

    /// Returns the resolver of the operating system (`getaddrinfo` through tokio).
    pub fn system() -> Self {
        Self::new(|host: String, port| async move {
            tokio::net::lookup_host((host.as_str(), port))
                .await
                .map(Iterator::collect)
        })
    }

    async fn lookup(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        (self.0)(host.to_owned(), port).await
    }
}

impl Default for Resolver {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Resolver")
    }
}

/// Resolves the host once and returns the checked addresses to try, in resolver order.
///
/// The caller connects only to these addresses, so a name that resolves to another address
/// later (DNS rebinding) cannot redirect the connection.
pub(crate) async fn resolve_checked(
    ascii_host: &str,
    port: u16,
    allowed_targets: &[(String, u16)],
    resolver: &Resolver,
) -> Result<Vec<SocketAddr>, FailureKind> {
    let resolved = match ascii_host.parse::<IpAddr>() {
        Ok(ip) => Ok(vec![SocketAddr::new(ip, port)]),
        Err(_) => resolver.lookup(ascii_host, port).await,
    };
    choose_address(ascii_host, port, resolved, allowed_targets)
}

/// Checks the resolved addresses; the connection then goes only to these addresses.
///
/// Every resolved address is checked, not only the one used, so that a name that mixes public
/// and internal addresses is rejected as a whole.
fn choose_address(
    ascii_host: &str,
    port: u16,
    resolved: io::Result<Vec<SocketAddr>>,
    allowed_targets: &[(String, u16)],
) -> Result<Vec<SocketAddr>, FailureKind> {
    let addresses = resolved.map_err(|_| FailureKind::HostNotFound)?;
    if addresses.is_empty() {
        return Err(FailureKind::HostNotFound);
    }

    let exempt = is_allowed_target(ascii_host, port, allowed_targets);
    if !exempt && addresses.iter().any(|address| is_forbidden_address(address.ip())) {
        return Err(FailureKind::AddressNotAllowed);
    }

    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(address: &str) -> bool {
        is_forbidden_address(address.parse().unwrap())
    }

    #[test]
    fn rejects_internal_ipv4_ranges() {
        let cases = [
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "239.255.255.255",
            "240.0.0.1",
            "255.255.255.255",
        ];

        for case in cases {
            assert!(forbidden(case), "{case} should be rejected");
        }
    }

    #[test]
    fn accepts_public_ipv4_near_ranges() {
        let cases = [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "223.255.255.255",
        ];

        for case in cases {
            assert!(!forbidden(case), "{case} should be accepted");
        }
    }

    #[test]
    fn rejects_internal_ipv6_ranges() {
        let cases = [
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "ff0e::1",
        ];

        for case in cases {
            assert!(forbidden(case), "{case} should be rejected");
        }
    }

    #[test]
    fn rejects_ipv6_embedding_internal_ipv4() {
        let cases = [
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::192.168.0.1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::10.0.0.1",
            // Teredo with the client 127.0.0.1 stored inverted (ff.ff.ff.fe -> 0x80ff_fffe).
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            // Teredo with the client 192.168.0.1 stored inverted.
            "2001:0:4136:e378::3f57:fffe",
            // Teredo whose server part is internal.
            "2001:0:a00:1::f7f7:f7f7",
        ];

        for case in cases {
            assert!(forbidden(case), "{case} should be rejected");
        }
    }

    #[test]
    fn accepts_public_ipv6_forms() {
        let cases = [
            "2001:4860:4860::8888",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::1",
            "64:ff9b::8.8.8.8",
            // Teredo with public server 65.54.227.120 and client 8.8.8.8 stored inverted.
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
        ];

        for case in cases {
            assert!(!forbidden(case), "{case} should be accepted");
        }
    }

    #[test]
    fn host_to_ascii_converts_idn() {
        assert_eq!(
            host_to_ascii("mail.exämple.fr").as_deref(),
            Some("mail.xn--exmple-cua.fr")
        );
        assert_eq!(
            host_to_ascii(" Mail.Example.COM. ").as_deref(),
            Some("mail.example.com")
        );
        assert_eq!(
            host_to_ascii("смтп.пример.рф").as_deref(),
            Some("xn--l1agef.xn--e1afmkfd.xn--p1ai")
        );
        assert_eq!(host_to_ascii("[::1]").as_deref(), Some("::1"));
        assert_eq!(host_to_ascii("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(host_to_ascii(""), None);
        assert_eq!(host_to_ascii("a..b"), None);
        assert_eq!(host_to_ascii("bad host"), None);
    }

    #[test]
    fn host_to_ascii_reads_numeric_ipv4_forms() {
        let cases = [
            ("2130706433", "127.0.0.1"),
            ("0x7f000001", "127.0.0.1"),
            ("0X7F000001", "127.0.0.1"),
            ("0177.0.0.1", "127.0.0.1"),
            ("127.1", "127.0.0.1"),
            ("127.0.1", "127.0.0.1"),
            ("0xa9.254.169.254", "169.254.169.254"),
            ("127.0.0.1.", "127.0.0.1"),
            ("0", "0.0.0.0"),
        ];

        for (host, expected) in cases {
            assert_eq!(host_to_ascii(host).as_deref(), Some(expected), "{host}");
        }
    }

    #[test]
    fn host_to_ascii_rejects_invalid_numbers_and_zones() {
        for host in [
            "1.2.3.4.5",
            "4294967296",
            "0x1g.0x1",
            "256.0.0.1",
            "fe80::1%eth0",
            "[fe80::1%25eth0]",
            "a%2eb",
        ] {
            assert_eq!(host_to_ascii(host), None, "{host}");
        }
        assert_eq!(host_to_ascii("mail.0x.example").as_deref(), Some("mail.0x.example"));
        assert_eq!(host_to_ascii("127.0.0.1.nip.io").as_deref(), Some("127.0.0.1.nip.io"));
    }

    #[tokio::test]
    async fn name_is_resolved_once_per_check() {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let resolver = Resolver::new(move |_host, port| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                Ok(vec![SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
                    port,
                )])
            }
        });

        let checked = resolve_checked("metadata.example", 25, &[], &resolver).await;

        assert_eq!(checked, Err(FailureKind::AddressNotAllowed));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn allowed_targets_ignore_case() {
        let allowed = vec![("MAIL.Exämple.fr".to_owned(), 2525)];

        assert!(is_allowed_target("mail.xn--exmple-cua.fr", 2525, &allowed));
        assert!(!is_allowed_target("mail.xn--exmple-cua.fr", 25, &allowed));
        assert!(!is_allowed_target("other.example", 2525, &allowed));
    }

    #[tokio::test]
    async fn literal_internal_address_rejected() {
        assert_eq!(
            resolve_checked("127.0.0.1", 25, &[], &Resolver::system()).await,
            Err(FailureKind::AddressNotAllowed)
        );
        assert_eq!(
            resolve_checked("::ffff:10.1.2.3", 25, &[], &Resolver::system()).await,
            Err(FailureKind::AddressNotAllowed)
        );

        let allowed = vec![("127.0.0.1".to_owned(), 2525)];
        assert_eq!(
            resolve_checked("127.0.0.1", 2525, &allowed, &Resolver::system()).await,
            Ok(vec!["127.0.0.1:2525".parse().unwrap()])
        );
    }

    fn socket_addresses(addresses: &[&str]) -> io::Result<Vec<SocketAddr>> {
        Ok(addresses.iter().map(|address| address.parse().unwrap()).collect())
    }

    #[test]
    fn failed_lookup_is_host_not_found() {
        let failed = Err(io::Error::other("failed to lookup address information"));

        assert_eq!(
            choose_address("mail.example.org", 25, failed, &[]),
            Err(FailureKind::HostNotFound)
        );
        assert_eq!(
            choose_address("mail.example.org", 25, socket_addresses(&[]), &[]),
            Err(FailureKind::HostNotFound)
        );
    }

    #[test]
    fn one_internal_address_rejects_the_name() {
        let mixed = socket_addresses(&["8.8.8.8:25", "10.0.0.1:25"]);

        assert_eq!(
            choose_address("mail.example.org", 25, mixed, &[]),
            Err(FailureKind::AddressNotAllowed)
        );
    }

    #[test]
    fn public_addresses_keep_resolver_order() {
        let public = socket_addresses(&["[2001:4860:4860::8888]:587", "8.8.8.8:587"]);

        assert_eq!(
            choose_address("mail.example.org", 587, public, &[]),
            Ok(vec![
                "[2001:4860:4860::8888]:587".parse().unwrap(),
                "8.8.8.8:587".parse().unwrap()
            ])
        );
    }

    #[test]
    fn allowed_target_may_resolve_to_loopback() {
        let loopback = socket_addresses(&["127.0.0.1:2525"]);
        let allowed = vec![("localhost".to_owned(), 2525)];

        assert_eq!(
            choose_address("localhost", 2525, loopback, &allowed),
            Ok(vec!["127.0.0.1:2525".parse().unwrap()])
        );
    }
}
