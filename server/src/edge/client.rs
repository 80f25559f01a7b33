//! Who the client is: its address, and whether to believe what a proxy says about it.
//!
//! Only a request whose TCP peer is a trusted proxy (`PANNIER_TRUSTED_PROXIES`) may name the
//! client with `X-Forwarded-For`: the address is the rightmost hop that is not a trusted proxy
//! (hops to its left are whatever the client wrote). From anyone else the forwarding headers
//! and `x-request-id` are dropped before any other layer sees them, so nobody picks their own
//! rate-limit key or log id.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use domain::auth::ClientInfo;
use ipnet::IpNet;

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

impl TrustedProxies {
    /// Parses `trusted_proxies`: comma-separated CIDRs or single addresses.
    pub fn parse(list: &str) -> Result<Self, String> {
        let nets = list
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>().or_else(|_| item.parse::<IpAddr>().map(IpNet::from)).map_err(
                    |_| {
                        format!(
                            "PANNIER_TRUSTED_PROXIES: “{item}” is not an address or a CIDR \
                             range (e.g. 10.0.0.0/8)"
                        )
                    },
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(Arc::new(nets)))
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the peer, or — when the peer is a trusted proxy — the rightmost
    /// `X-Forwarded-For` hop that is not a trusted proxy.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> =
            forwarded_for.iter().flat_map(|value| value.split(',')).map(str::trim).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Ok(hop) = hop.parse::<IpAddr>() else { break };
            client = canonical(hop);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses as IPv4, so one rule matches both forms.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Puts the request's [`ClientInfo`] into its extensions; strips forwarding headers and the
/// request id from untrusted peers.
pub async fn identify_client(
    State(proxies): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = super::serve::peer(&request).map(|addr| addr.ip());
    let headers = request.headers_mut();
    let ip = match peer {
        Some(peer) if proxies.trusts(peer) => {
            let forwarded: Vec<&str> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .collect();
            Some(proxies.client_ip(peer, &forwarded))
        }
        other => {
            for name in ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded"] {
                headers.remove(name);
            }
            headers.remove("x-request-id");
            other.map(canonical)
        }
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(512).collect());
    request.extensions_mut().insert(ClientInfo { ip: ip.map(|ip| ip.to_string()), user_agent });
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_trusted_proxies_name_the_client_and_the_rightmost_untrusted_hop_wins() {
        let proxies = TrustedProxies::parse("127.0.0.1/32, 10.0.0.0/8").unwrap();
        // A stranger's header is ignored.
        assert_eq!(proxies.client_ip(ip("203.0.113.5"), &["198.51.100.1"]), ip("203.0.113.5"));
        // Through our proxy: the hop it saw.
        assert_eq!(proxies.client_ip(ip("127.0.0.1"), &["198.51.100.1"]), ip("198.51.100.1"));
        // A client that forges hops to the left cannot choose its address.
        let forged = ["1.2.3.4, 198.51.100.1"];
        assert_eq!(proxies.client_ip(ip("127.0.0.1"), &forged), ip("198.51.100.1"));
        // Through two of our proxies.
        let chain = ["198.51.100.1, 10.1.2.3"];
        assert_eq!(proxies.client_ip(ip("127.0.0.1"), &chain), ip("198.51.100.1"));
        // IPv4-mapped peers match IPv4 rules.
        assert_eq!(
            proxies.client_ip(ip("::ffff:127.0.0.1"), &["198.51.100.1"]),
            ip("198.51.100.1")
        );
        // Garbage stops the walk: the last hop read stands.
        assert_eq!(proxies.client_ip(ip("127.0.0.1"), &["nonsense"]), ip("127.0.0.1"));
        let garbage_left = ["nonsense, 198.51.100.1"];
        assert_eq!(proxies.client_ip(ip("127.0.0.1"), &garbage_left), ip("198.51.100.1"));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
    }
}
