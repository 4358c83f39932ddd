//! What a push subscription must be before it is stored, and which addresses
//! the sender may ever connect to.
//!
//! A push endpoint is a URL a user hands us and we later POST to: without
//! these checks it would let anyone make the server call its own loopback,
//! the LAN or a cloud metadata address. So: `https` only, no user info, every
//! address the host resolves to must be public (checked here at subscribe
//! time, and again by the sender's resolver at every send, so a name that
//! later resolves elsewhere gets nowhere), and keys that really are a P-256
//! point and a 16-byte secret. `NATTER_PUSH_ALLOW_PRIVATE=true` lifts the
//! address and scheme rules (tests, LAN set-ups).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use natter_core::{Error, Result};
use reqwest::Url;

/// Longest endpoint accepted, in bytes.
pub const MAX_ENDPOINT_BYTES: usize = 2048;
/// Subscriptions one user may hold (browsers × profiles × devices).
pub const MAX_PER_USER: u32 = 20;
/// How long resolving an endpoint's host may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// A subscription that passed every check, with its keys as given.
#[derive(Debug, Clone)]
pub struct Checked {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// Every rule of a subscription; `invalid` naming the first one broken.
pub async fn subscription(
    endpoint: &str,
    p256dh: &str,
    auth: &str,
    allow_private: bool,
) -> Result<Checked> {
    let url = endpoint_url(endpoint, allow_private)?;
    keys(p256dh, auth)?;
    let host = url
        .host_str()
        .ok_or_else(|| Error::invalid("endpoint: a URL with a host is required"))?;
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs = resolve(host, port).await?;
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(Error::invalid(format!(
                "endpoint: {host} resolves to {}, which is not a public address",
                bad.ip()
            )));
        }
    }
    Ok(Checked {
        // as given (not re-serialised), so a later DELETE with it matches
        endpoint: endpoint.to_owned(),
        p256dh: p256dh.to_owned(),
        auth: auth.to_owned(),
    })
}

/// The URL rules that need no network.
pub fn endpoint_url(endpoint: &str, allow_private: bool) -> Result<Url> {
    if endpoint.is_empty() {
        return Err(Error::invalid("endpoint: required"));
    }
    if endpoint.len() > MAX_ENDPOINT_BYTES {
        return Err(Error::invalid(format!(
            "endpoint: at most {MAX_ENDPOINT_BYTES} bytes"
        )));
    }
    let url =
        Url::parse(endpoint).map_err(|e| Error::invalid(format!("endpoint: not a URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(Error::invalid("endpoint: must be an https URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid("endpoint: must not contain user info"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid("endpoint: a URL with a host is required"));
    }
    Ok(url)
}

/// `p256dh`: an uncompressed point on P-256 (65 bytes); `auth`: 16 bytes;
/// both base64url (padding tolerated, as some browsers add it).
pub fn keys(p256dh: &str, auth: &str) -> Result<()> {
    let key = decode(p256dh).ok_or_else(|| Error::invalid("keys.p256dh: not base64url"))?;
    if key.len() != 65 || key.first() != Some(&4) {
        return Err(Error::invalid(
            "keys.p256dh: must be an uncompressed P-256 public key (65 bytes)",
        ));
    }
    if web_push_native::p256::PublicKey::from_sec1_bytes(&key).is_err() {
        return Err(Error::invalid(
            "keys.p256dh: not a point on the P-256 curve",
        ));
    }
    let secret = decode(auth).ok_or_else(|| Error::invalid("keys.auth: not base64url"))?;
    if secret.len() != 16 {
        return Err(Error::invalid("keys.auth: must be 16 bytes"));
    }
    Ok(())
}

/// base64url, with or without `=` padding.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(s.trim_end_matches('=')).ok()
}

async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    // An IP literal needs no look-up (and `[::1]` keeps its brackets in the URL).
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let found = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((bare, port)))
        .await
        .map_err(|_| Error::invalid(format!("endpoint: resolving {host} timed out")))?
        .map_err(|_| Error::invalid(format!("endpoint: {host} does not resolve")))?;
    let addrs: Vec<SocketAddr> = found.collect();
    if addrs.is_empty() {
        return Err(Error::invalid(format!("endpoint: {host} does not resolve")));
    }
    Ok(addrs)
}

/// Not loopback, private, link-local, multicast, unspecified, shared (CGNAT),
/// broadcast or documentation space; IPv4-mapped IPv6 judged as its IPv4.
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
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10, carrier-grade NAT
        || (a == 100 && (64..128).contains(&b))
        // 198.18.0.0/15, benchmarking
        || (a == 198 && (b == 18 || b == 19))
        // 240.0.0.0/4, reserved
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // fc00::/7 unique local
        || (first & 0xfe00) == 0xfc00
        // fe80::/10 link-local
        || (first & 0xffc0) == 0xfe80
        // 2001:db8::/32 documentation
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // ::ffff:0:0/96 handled by the caller; 64:ff9b::/96 maps to IPv4 too
        || (first == 0x0064 && ip.segments()[1] == 0xff9b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_private_addresses() {
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "142.250.1.1"] {
            assert!(
                is_public(ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))),
                "{ip}"
            );
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "224.0.0.1",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(
                !is_public(ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))),
                "{ip}"
            );
        }
    }

    #[test]
    fn url_rules() {
        assert!(endpoint_url("https://push.example.com/x", false).is_ok());
        assert!(endpoint_url("http://push.example.com/x", false).is_err());
        assert!(endpoint_url("http://push.example.com/x", true).is_ok());
        assert!(endpoint_url("https://u:p@push.example.com/x", false).is_err());
        assert!(endpoint_url("https://u@push.example.com/x", false).is_err());
        assert!(endpoint_url("ftp://push.example.com/x", true).is_err());
        assert!(endpoint_url("not a url", false).is_err());
        assert!(endpoint_url("", false).is_err());
        let long = format!(
            "https://push.example.com/{}",
            "a".repeat(MAX_ENDPOINT_BYTES)
        );
        assert!(endpoint_url(&long, false).is_err());
    }
}
