//! Who the client is behind reverse proxies. Forwarding headers are believed
//! only when the TCP peer is one of `NATTER_TRUSTED_PROXIES`; then the client
//! is the rightmost address of `X-Forwarded-For` (or `Forwarded: for=`) that
//! is not itself a trusted proxy: everything left of it could be written by
//! the client.

use std::net::{IpAddr, Ipv6Addr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The parsed `NATTER_TRUSTED_PROXIES`.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    /// Comma- or space-separated addresses and CIDRs; `Err` names the bad entry.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let net = match item.parse::<IpNet>() {
                Ok(n) => n,
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(format!(
                            "NATTER_TRUSTED_PROXIES: '{item}' is not an address or CIDR"
                        ))
                    }
                },
            };
            nets.push(net);
        }
        Ok(TrustedProxies { nets })
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client's address: `peer`, or from the forwarding headers when
    /// `peer` is a trusted proxy.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let mut hops = forwarded_for(headers);
        if hops.is_empty() {
            hops = x_forwarded_for(headers);
        }
        let mut client = peer;
        // Walk from the nearest hop back; stop at the first untrusted one.
        for hop in hops.into_iter().rev() {
            let Some(ip) = hop else { break };
            client = canonical(ip);
            if !self.contains(client) {
                break;
            }
        }
        client
    }

    /// Whether the request reached the trusted proxy over HTTPS (its
    /// `X-Forwarded-Proto` / `Forwarded: proto=`). False if `peer` is not trusted.
    pub fn forwarded_https(&self, peer: IpAddr, headers: &HeaderMap) -> bool {
        self.forwarded_value(peer, headers, "x-forwarded-proto", "proto")
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
    }

    /// The host the client asked the trusted proxy for (`X-Forwarded-Host` /
    /// `Forwarded: host=`), if `peer` is trusted.
    pub fn forwarded_host(&self, peer: IpAddr, headers: &HeaderMap) -> Option<String> {
        self.forwarded_value(peer, headers, "x-forwarded-host", "host")
    }

    /// The value the nearest proxy set (rightmost).
    fn forwarded_value(
        &self,
        peer: IpAddr,
        headers: &HeaderMap,
        x_header: &str,
        param: &str,
    ) -> Option<String> {
        if !self.contains(peer) {
            return None;
        }
        let from_x = headers
            .get_all(x_header)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty())
            .map(str::to_owned);
        from_x.or_else(|| {
            forwarded_elements(headers)
                .filter_map(|el| param_of(&el, param))
                .last()
        })
    }
}

/// IPv4-mapped IPv6 addresses as IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key per-address limits use: an IPv4 address, or the /64 of an IPv6
/// one (a single host usually holds a whole /64).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| parse_node(s.trim()))
        .collect()
}

fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    forwarded_elements(headers)
        .filter_map(|el| param_of(&el, "for"))
        .map(|v| parse_node(&v))
        .collect()
}

/// The elements (comma-separated) of every `Forwarded` header (RFC 7239).
fn forwarded_elements(headers: &HeaderMap) -> impl Iterator<Item = String> + '_ {
    headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_owned())
}

fn param_of(element: &str, name: &str) -> Option<String> {
    element.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// `1.2.3.4`, `1.2.3.4:5678`, `[::1]`, `[::1]:5678`, `::1`; anything else
/// (`unknown`, obfuscated names) is `None`.
fn parse_node(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4([0, 0, 0, 0].into()))
    }

    #[test]
    fn forwarding_headers_only_from_trusted_peers() {
        let t = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap_or_default();
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.1.1.1")]);
        // the rightmost untrusted hop, not the client-written leftmost one
        assert_eq!(t.client_ip(ip("127.0.0.1"), &h), ip("1.2.3.4"));
        // an untrusted peer's headers are ignored
        assert_eq!(t.client_ip(ip("9.9.9.9"), &h), ip("9.9.9.9"));
        let none = TrustedProxies::default();
        assert_eq!(none.client_ip(ip("127.0.0.1"), &h), ip("127.0.0.1"));
        let f = headers(&[(
            "forwarded",
            "for=6.6.6.6, for=\"[2001:db8::1]:4711\";proto=https",
        )]);
        assert_eq!(t.client_ip(ip("127.0.0.1"), &f), ip("2001:db8::1"));
        assert!(t.forwarded_https(ip("127.0.0.1"), &f));
        assert!(!t.forwarded_https(ip("9.9.9.9"), &f));
        let garbage = headers(&[("x-forwarded-for", "1.2.3.4, nonsense")]);
        assert_eq!(t.client_ip(ip("127.0.0.1"), &garbage), ip("127.0.0.1"));
        assert!(TrustedProxies::parse("10.0.0.0/8, bogus").is_err());
    }

    #[test]
    fn ipv6_is_limited_per_64() {
        assert_eq!(
            limit_key(ip("2001:db8:1:2:aaaa::1")),
            limit_key(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:2::1")),
            limit_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(limit_key(ip("::ffff:1.2.3.4")), ip("1.2.3.4"));
    }
}
