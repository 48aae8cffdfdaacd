//! Which addresses a fetch may connect to.
//!
//! Public unicast addresses only, unless the user opted in with
//! `FF_ALLOW_HOSTS` (names, IPs or CIDRs) or `FF_ALLOW_PRIVATE_NETWORK=1`.
//! Addresses that embed an IPv4 address (IPv4-mapped and -compatible IPv6,
//! NAT64, 6to4) are judged by the address they embed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Environment variable: comma-separated host names, IPs or CIDRs that may
/// be fetched even though they are not public.
pub const ALLOW_HOSTS_ENV: &str = "FF_ALLOW_HOSTS";
/// Environment variable: `1` allows every non-public address.
pub const ALLOW_PRIVATE_ENV: &str = "FF_ALLOW_PRIVATE_NETWORK";

/// Why an address is not public, or `None` when it is.
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "an unspecified ('this network') address",
        (127, _, _) => "a loopback address",
        (10, _, _) => "a private address",
        (172, 16..=31, _) => "a private address",
        (192, 168, _) => "a private address",
        (169, 254, _) => "a link-local address (cloud metadata lives here)",
        (100, 64..=127, _) => "a carrier-grade NAT address",
        (192, 0, 0) => "an IETF protocol address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        (192, 88, 99) => "a 6to4 relay address",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return v4_reason(v4);
    }
    let s = ip.segments();
    Some(match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => "an unspecified address",
        [0, 0, 0, 0, 0, 0, 0, 1] => "a loopback address",
        [0x100, 0, 0, 0, ..] => "a discard-only address",
        [0x2001, 0xdb8, ..] => "a documentation address",
        [0x2001, 0, ..] => "a Teredo tunnel address",
        _ if s[0] & 0xfe00 == 0xfc00 => "a unique-local (private) address",
        _ if s[0] & 0xffc0 == 0xfe80 => "a link-local address",
        _ if s[0] & 0xffc0 == 0xfec0 => "a site-local address",
        _ if s[0] & 0xff00 == 0xff00 => "a multicast address",
        _ => return None,
    })
}

/// The IPv4 address carried inside an IPv6 one, for the forms that carry one.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, but not :: or ::1)
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        // NAT64 well-known prefix 64:ff9b::/96
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        // 6to4 2002:AABB:CCDD::/48
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

/// One `FF_ALLOW_HOSTS` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allow {
    Host(String),
    Net(IpAddr, u8),
}

/// The address policy of a fetcher.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchPolicy {
    allow_private: bool,
    allowed: Vec<Allow>,
}

impl FetchPolicy {
    /// Public addresses only.
    pub fn public_only() -> Self {
        Self::default()
    }

    /// From `FF_ALLOW_HOSTS` and `FF_ALLOW_PRIVATE_NETWORK`.
    pub fn from_config(config: &crate::config::Config) -> Result<Self, String> {
        let mut policy = Self {
            allow_private: config
                .get(ALLOW_PRIVATE_ENV)
                .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true")),
            allowed: Vec::new(),
        };
        if let Some(list) = config.get(ALLOW_HOSTS_ENV) {
            for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                policy = policy.allow(entry)?;
            }
        }
        Ok(policy)
    }

    /// Allows a host name, an IP or a CIDR (`10.0.0.0/8`, `fd00::/8`).
    pub fn allow(mut self, entry: &str) -> Result<Self, String> {
        let entry = entry.trim().trim_start_matches('[').trim_end_matches(']');
        let rule = if let Some((addr, bits)) = entry.split_once('/') {
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| format!("'{entry}' is not a valid CIDR"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits: u8 = bits
                .parse()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| format!("'{entry}' has an invalid prefix length"))?;
            Allow::Net(ip, bits)
        } else if let Ok(ip) = entry.parse::<IpAddr>() {
            Allow::Net(ip, if ip.is_ipv4() { 32 } else { 128 })
        } else if !entry.is_empty()
            && entry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            Allow::Host(entry.trim_end_matches('.').to_ascii_lowercase())
        } else {
            return Err(format!(
                "'{entry}' in {ALLOW_HOSTS_ENV} is not a host name, IP address or CIDR"
            ));
        };
        self.allowed.push(rule);
        Ok(self)
    }

    /// Allows every non-public address.
    pub fn allow_private_network(mut self) -> Self {
        self.allow_private = true;
        self
    }

    /// `Ok` when `host` (as written in the URL) may be reached at `ip`;
    /// otherwise the reason the address is refused.
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), &'static str> {
        if is_metadata(ip) {
            // Only an explicit entry for this very address opens it: not
            // FF_ALLOW_PRIVATE_NETWORK, not a CIDR, not a host name.
            let exact = self
                .allowed
                .iter()
                .any(|rule| matches!(rule, Allow::Net(net, bits) if *net == ip && u32::from(*bits) == max_bits(ip)));
            return if exact {
                Ok(())
            } else {
                Err(
                    "a cloud metadata address (only an FF_ALLOW_HOSTS entry with this exact IP allows it)",
                )
            };
        }
        let Some(reason) = non_public_reason(ip) else {
            return Ok(());
        };
        if self.allow_private {
            return Ok(());
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let allowed = self.allowed.iter().any(|rule| match rule {
            Allow::Host(name) => *name == host,
            Allow::Net(net, bits) => in_net(ip, *net, *bits),
        });
        if allowed { Ok(()) } else { Err(reason) }
    }
}

/// Cloud instance-metadata endpoints (AWS, GCP, Azure, Oracle,
/// DigitalOcean: 169.254.169.254; AWS ECS/EKS credentials: 169.254.170.2
/// and .23; Alibaba: 100.100.100.200; AWS IPv6: fd00:ec2::254 and ::23),
/// also when carried inside an IPv6 address.
pub fn is_metadata(ip: IpAddr) -> bool {
    const V4: [Ipv4Addr; 4] = [
        Ipv4Addr::new(169, 254, 169, 254),
        Ipv4Addr::new(169, 254, 170, 2),
        Ipv4Addr::new(169, 254, 170, 23),
        Ipv4Addr::new(100, 100, 100, 200),
    ];
    const V6: [Ipv6Addr; 2] = [
        Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254),
        Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23),
    ];
    match ip {
        IpAddr::V4(v4) => V4.contains(&v4),
        IpAddr::V6(v6) => V6.contains(&v6) || embedded_v4(v6).is_some_and(|v4| V4.contains(&v4)),
    }
}

fn max_bits(ip: IpAddr) -> u32 {
    if ip.is_ipv4() { 32 } else { 128 }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_non_public_range() {
        let refused = [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "192.88.99.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "100::1",
        ];
        for ip in refused {
            let parsed: IpAddr = ip.parse().expect(ip);
            assert!(non_public_reason(parsed).is_some(), "{ip} must be refused");
        }
        let public = [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
            "2002:0101:0101::",
        ];
        for ip in public {
            let parsed: IpAddr = ip.parse().expect(ip);
            assert_eq!(non_public_reason(parsed), None, "{ip} is public");
        }
    }

    #[test]
    fn opt_ins() {
        let lo: IpAddr = "127.0.0.1".parse().expect("ip");
        let ten: IpAddr = "10.1.2.3".parse().expect("ip");
        assert!(FetchPolicy::public_only().check("localhost", lo).is_err());
        let by_name = FetchPolicy::public_only()
            .allow("LocalHost.")
            .expect("rule");
        assert!(by_name.check("localhost", lo).is_ok());
        assert!(by_name.check("other", lo).is_err());
        let by_cidr = FetchPolicy::public_only()
            .allow("10.0.0.0/8")
            .expect("rule");
        assert!(by_cidr.check("x", ten).is_ok());
        assert!(by_cidr.check("x", lo).is_err());
        let by_ip = FetchPolicy::public_only().allow("[::1]").expect("rule");
        assert!(by_ip.check("x", "::1".parse().expect("ip")).is_ok());
        assert!(
            FetchPolicy::public_only()
                .allow_private_network()
                .check("x", ten)
                .is_ok()
        );
        let metadata: IpAddr = "169.254.169.254".parse().expect("ip");
        let open_all = FetchPolicy::public_only()
            .allow_private_network()
            .allow("169.254.0.0/16")
            .expect("rule")
            .allow("metadata.google.internal")
            .expect("rule");
        for ip in [
            "169.254.169.254",
            "169.254.170.2",
            "169.254.170.23",
            "100.100.100.200",
            "fd00:ec2::254",
            "fd00:ec2::23",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            let ip: IpAddr = ip.parse().expect("ip");
            let err = open_all
                .check("metadata.google.internal", ip)
                .expect_err("metadata stays closed");
            assert!(err.contains("metadata"), "{ip}: {err}");
        }
        let exact = FetchPolicy::public_only()
            .allow("169.254.169.254")
            .expect("rule");
        assert!(exact.check("x", metadata).is_ok());
        assert!(
            exact
                .check("x", "169.254.170.2".parse().expect("ip"))
                .is_err()
        );
        for bad in ["10.0.0.0/33", "not a host!", "1.2.3.4/x"] {
            assert!(FetchPolicy::public_only().allow(bad).is_err(), "{bad}");
        }
    }
}
