//! Who a request comes from, for rate limits and connection caps: the peer, or behind a trusted
//! proxy the client the proxy names.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::error::ApiError;
use crate::state::AppState;

/// The client a rate limit counts: the peer, or behind a trusted proxy the right-most address of
/// `X-Forwarded-For` that is not itself a trusted proxy (the one the proxy saw; entries to its left
/// are whatever the client wrote). IPv6 clients count by their /64, which one subscriber usually
/// holds whole.
pub struct ClientKey(pub String);

impl FromRequestParts<AppState> for ClientKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no peer address")))?;
        let ip = client_ip(peer, &parts.headers, &state.config.trusted_proxies);
        Ok(ClientKey(bucket(ip)))
    }
}

fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // Each hop on its own: bytes a client wrote into its part must not hide the proxy's.
    let hops: Vec<Option<IpAddr>> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .map(|hop| {
            std::str::from_utf8(hop)
                .ok()
                .and_then(|hop| hop.trim().parse::<IpAddr>().ok())
                .map(|ip| ip.to_canonical())
        })
        .collect();
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if is_trusted(ip) => continue,
            Some(ip) => return *ip,
            // Garbage where the proxy writes the client: the proxy is misconfigured; count the
            // proxy itself rather than anything a client could choose.
            None => return peer,
        }
    }
    // Only proxies on the way (a health check from the proxy itself).
    peer
}

/// The key one client counts under: an IPv4 address, or an IPv6 /64.
pub fn bucket(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Whether `peer` is one of the trusted proxies.
pub fn is_trusted(peer: IpAddr, trusted: &[IpNet]) -> bool {
    let peer = peer.to_canonical();
    trusted.iter().any(|net| net.contains(&peer))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn forwarding_headers_are_ignored_unless_the_peer_is_a_trusted_proxy() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        let headers = forwarded("198.51.100.1");
        assert_eq!(client_ip(peer, &headers, &[]), peer);
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(client_ip(peer, &headers, &trusted), peer);
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client wrote "1.1.1.1" itself; the proxy appended what it saw; an inner proxy too.
        let headers = forwarded("1.1.1.1, 198.51.100.7, 10.0.0.5");
        assert_eq!(
            client_ip(proxy, &headers, &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // Two header lines count as one list.
        let mut two = forwarded("1.1.1.1");
        two.append("x-forwarded-for", HeaderValue::from_static("198.51.100.8"));
        assert_eq!(
            client_ip(proxy, &two, &trusted),
            "198.51.100.8".parse::<IpAddr>().unwrap()
        );
        // No header, or garbage where the proxy writes: the proxy itself.
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted), proxy);
        // A byte the client wrote that is not visible ASCII spoils only its own part.
        let mut odd = HeaderMap::new();
        odd.insert(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"\xff, 198.51.100.7").unwrap(),
        );
        assert_eq!(
            client_ip(proxy, &odd, &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(proxy, &forwarded("1.1.1.1, junk"), &trusted),
            proxy
        );
    }

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(bucket(a), "2001:db8:1:2::/64");
        assert_eq!(bucket(a), bucket(b));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(
            bucket(client_ip(mapped, &HeaderMap::new(), &[])),
            "192.0.2.1"
        );
    }
}
