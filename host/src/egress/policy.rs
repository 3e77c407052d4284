//! Which addresses an action may reach. Everything globally routable is allowed; loopback,
//! private, link-local (cloud metadata included), CGNAT, multicast, documentation and other
//! special-purpose ranges are refused unless an operator lists them in `[egress]
//! allow_private`. Decisions are made on resolved addresses, and IPv6 forms that embed an IPv4
//! address (v4-mapped, v4-compatible, NAT64, 6to4) are judged by the address they embed, so no
//! spelling of `169.254.169.254` gets through; written as IPv4-mapped or IPv4-translated
//! IPv6 (`::ffff:0:0/96`, `::ffff:0:0:0/96`) an address is refused outright, global or not,
//! since no destination needs that spelling. The host's own addresses (its public interface
//! included) are refused like loopback, and operators may restrict the ports.

use crate::config::Cidr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not globally routable, or `None` when it is.
pub fn special_purpose(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "unspecified (\"this network\")",
        (10, _, _) => "private",
        (100, 64..=127, _) => "shared address space (CGNAT)",
        (127, _, _) => "loopback",
        (169, 254, _) => "link-local (cloud metadata lives here)",
        (172, 16..=31, _) => "private",
        (192, 0, 0) => "IETF protocol assignments",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (192, 88, 99) => "6to4 relay anycast",
        (192, 168, _) => "private",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        _ => return None,
    })
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    let embedded_v4 =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return special_v4(v4).or(Some("IPv4-mapped IPv6 (::ffff:0:0/96)"));
    }
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    match segments {
        // IPv4-translated ::ffff:0:a.b.c.d (RFC 2765).
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => {
            return special_v4(embedded_v4(hi, lo))
                .or(Some("IPv4-translated IPv6 (::ffff:0:0:0/96)"));
        }
        // Deprecated IPv4-compatible ::a.b.c.d
        [0, 0, 0, 0, 0, 0, hi, lo] => {
            return special_v4(embedded_v4(hi, lo)).or(Some("IPv4-compatible (deprecated)"));
        }
        // NAT64 well-known prefix 64:ff9b::/96 reaches the embedded IPv4 address.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => {
            return special_v4(embedded_v4(hi, lo)).map(|_| "NAT64 of a non-global IPv4 address");
        }
        // Local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215): refused outright, since where it
        // embeds the IPv4 address depends on the translator's prefix length.
        [0x64, 0xff9b, 0x1, ..] => return Some("local-use NAT64"),
        // 6to4 2002:AABB:CCDD::/48 tunnels to the embedded IPv4 address.
        [0x2002, hi, lo, ..] => {
            return special_v4(embedded_v4(hi, lo)).map(|_| "6to4 of a non-global IPv4 address");
        }
        _ => {}
    }
    let first = segments[0];
    Some(match first {
        _ if first & 0xfe00 == 0xfc00 => "unique local (private)",
        _ if first & 0xffc0 == 0xfe80 => "link-local",
        _ if first & 0xffc0 == 0xfec0 => "site-local (deprecated)",
        _ if first & 0xff00 == 0xff00 => "multicast",
        0x2001 if segments[1] == 0x0db8 => "documentation",
        0x2001 if segments[1] < 0x0200 => "IETF special purpose (Teredo, benchmarking, ...)",
        0x0100 if segments[1..4] == [0, 0, 0] => "discard-only",
        0x3fff if segments[1] & 0xf000 == 0 => "documentation",
        _ => return None,
    })
}

/// Whether `ip` is an address of this host (any interface, its public one included): binding
/// a socket to it succeeds exactly then. On a host that allows binding to foreign addresses
/// (`ip_nonlocal_bind`) the test would say yes to every address, so it is not used there.
fn is_own_address(ip: IpAddr) -> bool {
    static USABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let usable = *USABLE.get_or_init(|| {
        // TEST-NET-1 is never assigned to an interface.
        let foreign = std::net::UdpSocket::bind((Ipv4Addr::new(192, 0, 2, 1), 0)).is_ok();
        if foreign {
            tracing::warn!("this host lets sockets bind to foreign addresses (ip_nonlocal_bind): egress cannot tell its own addresses apart and does not refuse them");
        }
        !foreign
    });
    usable && std::net::UdpSocket::bind((ip, 0)).is_ok()
}

/// The address policy of outbound requests.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allow: Vec<Cidr>,
    ports: Vec<u16>,
}

impl AddressPolicy {
    /// A policy allowing every global address plus the `allow_private` blocks (parsed,
    /// and so checked, when the config loaded).
    pub fn new(allow_private: &[Cidr]) -> AddressPolicy {
        AddressPolicy {
            allow: allow_private.to_vec(),
            ports: Vec::new(),
        }
    }

    /// The same policy allowing only `ports` (empty: every port).
    pub fn with_ports(mut self, ports: &[u16]) -> AddressPolicy {
        self.ports = ports.to_vec();
        self
    }

    /// `Ok` when an action may connect to `ip`, else why not.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        let kind = special_purpose(ip).or_else(|| {
            is_own_address(ip).then_some("an address of this host (its own interface)")
        });
        match kind {
            None => Ok(()),
            Some(_) if self.allow.iter().any(|c| c.contains(ip)) => Ok(()),
            Some(kind) => Err(format!(
                "{ip} is {kind}; list it in [egress] allow_private to allow it"
            )),
        }
    }

    /// `Ok` when an action may connect to `port`.
    pub fn check_port(&self, port: u16) -> Result<(), String> {
        if self.ports.is_empty() || self.ports.contains(&port) {
            Ok(())
        } else {
            Err(format!(
                "port {port} is not in [egress] allow_ports ({})",
                self.ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> bool {
        AddressPolicy::default()
            .check(text.parse().unwrap())
            .is_err()
    }

    #[test]
    fn non_global_addresses_are_refused_in_every_spelling() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:a9fe:a9fe",
            "::169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "fd00:ec2::254",
            "fc00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            // Global, but in a spelling no destination needs.
            "::ffff:8.8.8.8",
            "::ffff:0:808:808",
            "::ffff:0:7f00:1",
        ] {
            assert!(refused(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn the_hosts_own_addresses_are_its_own() {
        assert!(is_own_address("127.0.0.1".parse().unwrap()));
        assert!(!is_own_address("192.0.2.1".parse().unwrap()));
        assert!(!is_own_address("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn ports_can_be_restricted() {
        let any = AddressPolicy::default();
        assert!(any.check_port(8443).is_ok());
        let web = AddressPolicy::default().with_ports(&[443, 80]);
        assert!(web.check_port(443).is_ok());
        let refused = web.check_port(6379).unwrap_err();
        assert_eq!(
            refused,
            "port 6379 is not in [egress] allow_ports (443, 80)"
        );
    }

    #[test]
    fn global_addresses_are_allowed() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!refused(ip), "{ip} must be allowed");
        }
    }

    #[test]
    fn allow_private_opens_exactly_the_listed_blocks() {
        let cidrs = |texts: &[&str]| -> Vec<Cidr> {
            texts.iter().map(|t| Cidr::parse(t).unwrap()).collect()
        };
        let policy = AddressPolicy::new(&cidrs(&["127.0.0.1/32", "fd00::/8"]));
        assert!(policy.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("::ffff:127.0.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("127.0.0.2".parse().unwrap()).is_err());
        assert!(policy.check("169.254.169.254".parse().unwrap()).is_err());
        assert!(policy.check("fd00:ec2::254".parse().unwrap()).is_ok());
        let mapped = AddressPolicy::new(&cidrs(&["::ffff:10.0.0.0/104"]));
        assert!(mapped.check("10.9.9.9".parse().unwrap()).is_ok());
        assert!(mapped.check("192.168.0.1".parse().unwrap()).is_err());
    }

    #[test]
    fn refusals_say_why_and_how_to_allow() {
        let err = AddressPolicy::default()
            .check("169.254.169.254".parse().unwrap())
            .unwrap_err();
        assert!(
            err.contains("link-local") && err.contains("allow_private"),
            "{err}"
        );
    }
}
