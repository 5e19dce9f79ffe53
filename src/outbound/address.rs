//! Which addresses an integrator's endpoint may have: the service must not be made to call into
//! the network it runs in (server-side request forgery). An endpoint is https; its host resolves
//! only to public addresses, checked where the connection is made (the client's resolver), so a
//! name that answers differently later (DNS rebinding) is caught too. In sandbox mode an endpoint
//! may also be http on a loopback address, for trying it out on one machine.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why an endpoint URL is refused, phrased for the integrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("must be an absolute https:// URL")]
    NotHttps,
    #[error("must not carry a user name or password")]
    Credentials,
    #[error("must not point at a private, loopback, link-local or otherwise internal address")]
    Internal,
    #[error("its host name does not resolve")]
    Unresolved,
}

/// What an endpoint may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// https to public addresses only.
    Public,
    /// Also http to loopback (sandbox mode).
    PublicAndLoopback,
}

impl Reach {
    /// What endpoints may reach: loopback too in sandbox mode, for trying them on one machine.
    pub fn for_mode(sandbox: bool) -> Self {
        if sandbox {
            Self::PublicAndLoopback
        } else {
            Self::Public
        }
    }

    fn allows(self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        if ip.is_loopback() {
            return self == Self::PublicAndLoopback;
        }
        is_public(ip)
    }
}

/// Checks a URL as given (scheme, credentials, a literal address). Names are checked as they
/// resolve, by [`Resolver`].
pub fn check(url: &str, reach: Reach) -> Result<Url, Refusal> {
    let url = Url::parse(url).map_err(|_| Refusal::NotHttps)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::Credentials);
    }
    let host = url.host().ok_or(Refusal::NotHttps)?;
    let literal = match host {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(_) => None,
    };
    let loopback_name = matches!(host, Host::Domain(name) if is_localhost(name));
    match url.scheme() {
        "https" => {}
        "http"
            if reach == Reach::PublicAndLoopback
                && (literal.is_some_and(|ip| canonical(ip).is_loopback()) || loopback_name) => {}
        _ => return Err(Refusal::NotHttps),
    }
    if let Some(ip) = literal
        && !reach.allows(ip)
    {
        return Err(Refusal::Internal);
    }
    if loopback_name && reach == Reach::Public {
        return Err(Refusal::Internal);
    }
    Ok(url)
}

fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is judged as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` is an address on the public internet: not loopback, private, link-local
/// (cloud metadata at 169.254.169.254 among them), carrier-grade NAT, unique-local,
/// unspecified, multicast, broadcast, documentation or otherwise reserved.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        || (first == 0x0064 && ip.segments()[1] == 0xff9b))
}

/// The HTTP client's resolver for endpoints: resolves with the system's, and hands the client
/// only the addresses `reach` allows; a name with none left fails to connect.
#[derive(Debug, Clone, Copy)]
pub struct Resolver {
    pub reach: Reach,
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.reach;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| reach.allows(address.ip()))
                .collect();
            if found.is_empty() {
                return Err(Box::new(Refusal::Internal) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

impl Resolver {
    pub fn shared(reach: Reach) -> Arc<Self> {
        Arc::new(Self { reach })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_to_public_addresses_passes_in_production() {
        for good in [
            "https://crm.example.org/hooks",
            "https://93.184.215.14/hooks",
            "https://[2606:4700:4700::1111]/x",
        ] {
            assert!(check(good, Reach::Public).is_ok(), "{good}");
        }
        for (bad, why) in [
            ("http://crm.example.org/hooks", Refusal::NotHttps),
            ("ftp://crm.example.org/", Refusal::NotHttps),
            ("crm.example.org/hooks", Refusal::NotHttps),
            ("https://user:pw@crm.example.org/", Refusal::Credentials),
            ("https://127.0.0.1/hooks", Refusal::Internal),
            ("https://localhost:8443/hooks", Refusal::Internal),
            ("https://10.1.2.3/", Refusal::Internal),
            ("https://172.16.0.9/", Refusal::Internal),
            ("https://192.168.1.1/", Refusal::Internal),
            (
                "https://169.254.169.254/latest/meta-data",
                Refusal::Internal,
            ),
            ("https://100.64.0.1/", Refusal::Internal),
            ("https://0.0.0.0/", Refusal::Internal),
            ("https://[::1]/", Refusal::Internal),
            ("https://[fd00::1]/", Refusal::Internal),
            ("https://[fe80::1]/", Refusal::Internal),
            ("https://[::ffff:10.0.0.1]/", Refusal::Internal),
        ] {
            assert_eq!(check(bad, Reach::Public), Err(why), "{bad}");
        }
    }

    #[test]
    fn the_sandbox_also_reaches_loopback_over_http_and_nothing_else_internal() {
        for good in [
            "http://127.0.0.1:9000/hooks",
            "http://localhost:9000/hooks",
            "http://[::1]:9000/",
        ] {
            assert!(check(good, Reach::PublicAndLoopback).is_ok(), "{good}");
        }
        for bad in [
            "http://10.0.0.1/",
            "https://192.168.0.10/",
            "http://crm.example.org/",
        ] {
            assert!(check(bad, Reach::PublicAndLoopback).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_where_the_connection_is_made() {
        let refused = Resolver {
            reach: Reach::Public,
        }
        .resolve("localhost".parse().expect("name"))
        .await;
        assert!(refused.is_err());
        let allowed = Resolver {
            reach: Reach::PublicAndLoopback,
        }
        .resolve("localhost".parse().expect("name"))
        .await;
        assert!(allowed.is_ok());
    }
}
