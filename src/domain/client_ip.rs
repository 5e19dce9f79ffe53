//! Who is asking, by address (security review, finding 8): which proxies may say so on the
//! client's behalf, and the subject a per-IP rate limit counts.

use std::fmt;
use std::net::IpAddr;

/// Address ranges (`NT_TRUSTED_PROXIES`) whose requests may name the client in
/// `NT_CLIENT_IP_HEADER`. A request from anywhere else is the client itself, whatever it claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR ranges (`10.0.0.0/8,fdaa::/16`).
    pub fn parse(value: &str) -> Result<Self, String> {
        let refused = |range: &str| {
            format!(
                "NT_TRUSTED_PROXIES must be IP addresses or ranges such as 10.0.0.0/8,fdaa::/16; `{range}` is not one."
            )
        };
        let mut ranges = Vec::new();
        for range in value.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let (address, bits) = match range.split_once('/') {
                Some((address, bits)) => (address, Some(bits)),
                None => (range, None),
            };
            let address: IpAddr = address.parse().map_err(|_| refused(range))?;
            let max = if address.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(bits) => bits.parse::<u8>().ok().filter(|b| *b <= max),
                None => Some(max),
            }
            .ok_or_else(|| refused(range))?;
            ranges.push((address, bits));
        }
        Ok(Self(ranges))
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|(net, bits)| match (canonical(*net), ip) {
                (IpAddr::V4(net), IpAddr::V4(ip)) => {
                    prefix(u128::from(u32::from(net)), 32, *bits)
                        == prefix(u128::from(u32::from(ip)), 32, *bits)
                }
                (IpAddr::V6(net), IpAddr::V6(ip)) => {
                    prefix(u128::from(net), 128, *bits) == prefix(u128::from(ip), 128, *bits)
                }
                _ => false,
            })
    }

    /// The client behind a request from `peer` carrying `header` (the value of
    /// `NT_CLIENT_IP_HEADER`, if any). The header counts only when the peer is a trusted proxy;
    /// then its comma-separated hops are read from the right, skipping trusted proxies, and the
    /// first one that is not trusted is the client (anything left of it the client could have
    /// written). A single-value header such as `Fly-Client-IP` is that one hop.
    pub fn client(&self, peer: IpAddr, header: Option<&str>) -> IpAddr {
        let peer = canonical(peer);
        let Some(header) = header.filter(|_| self.contains(peer)) else {
            return peer;
        };
        let mut client = peer;
        for hop in header.rsplit(',') {
            let Ok(hop) = hop.trim().parse::<IpAddr>() else {
                // Garbage where a hop should be: the last address read is all we can vouch for.
                break;
            };
            client = canonical(hop);
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ranges: Vec<String> = self
            .0
            .iter()
            .map(|(ip, bits)| format!("{ip}/{bits}"))
            .collect();
        f.write_str(&ranges.join(","))
    }
}

fn prefix(value: u128, width: u8, bits: u8) -> u128 {
    if bits == 0 {
        0
    } else {
        value >> (width - bits)
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, what a dual-stack socket reports) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// What a per-IP rate limit counts for `ip`: the address itself for IPv4, its /64 for IPv6 (one
/// subscriber, one VPS, gets a whole /64, so single IPv6 addresses are free to them).
pub fn rate_subject(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(canonical) {
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_addresses_count_per_slash_64() {
        assert_eq!(
            rate_subject("2001:db8:1:2::1"),
            rate_subject("2001:db8:1:2:ffff::9")
        );
        assert_ne!(
            rate_subject("2001:db8:1:2::1"),
            rate_subject("2001:db8:1:3::1")
        );
        assert_eq!(rate_subject("203.0.113.7"), "203.0.113.7");
        assert_eq!(rate_subject("::ffff:203.0.113.7"), "203.0.113.7");
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy_and_from_the_right() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, fdaa::/16").unwrap();
        let forwarded = Some("6.6.6.6, 203.0.113.7, 10.1.2.3");
        assert_eq!(proxies.client(ip("10.0.0.1"), forwarded), ip("203.0.113.7"));
        assert_eq!(
            proxies.client(ip("198.51.100.1"), forwarded),
            ip("198.51.100.1")
        );
        assert_eq!(
            proxies.client(ip("fdaa::1"), Some("2001:db8::5")),
            ip("2001:db8::5")
        );
        assert_eq!(proxies.client(ip("10.0.0.1"), None), ip("10.0.0.1"));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("nonsense").is_err());
    }
}
