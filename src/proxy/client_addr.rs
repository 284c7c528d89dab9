//! Who the client is, when the gateway stands behind proxies of its own (a load balancer, a
//! NetScaler): `X-Forwarded-For` from a configured trusted proxy is believed and appended to;
//! from anyone else it is replaced by the peer's address, as a client can write anything there.
//!
//! The client is found the way nginx's `real_ip_recursive` does it: walk the list from the right
//! (the hop nearest the gateway), skip addresses that are themselves trusted proxies, and take
//! the first that is not. An entry that is not an address ends the walk at the last address
//! believed, so garbage cannot name a client. The address found is the one the access log,
//! the canary's client key and the forced-pool rule use. Pure: no I/O.

use std::net::IpAddr;

/// At most this many `X-Forwarded-For` entries are looked at (from the right); a longer chain
/// is not a real one.
const MAX_HOPS: usize = 32;

/// The client's address and the `X-Forwarded-For` value to send upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr {
    pub ip: IpAddr,
    pub forwarded_for: String,
}

/// From the peer's address, the request's `X-Forwarded-For` values (in order) and the trusted
/// proxies.
pub fn resolve<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a [u8]>,
    trusted: impl Fn(IpAddr) -> bool,
) -> ClientAddr {
    let peer = canonical(peer);
    if !trusted(peer) {
        return ClientAddr {
            ip: peer,
            forwarded_for: peer.to_string(),
        };
    }
    let values: Vec<&str> = forwarded_for
        .into_iter()
        .filter_map(|v| std::str::from_utf8(v).ok())
        .collect();
    let mut ip = peer;
    for entry in values
        .iter()
        .rev()
        .flat_map(|v| v.rsplit(','))
        .take(MAX_HOPS)
    {
        match entry.trim().parse::<IpAddr>() {
            Ok(hop) => {
                ip = canonical(hop);
                if !trusted(ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let chain: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    let forwarded_for = if chain.is_empty() {
        peer.to_string()
    } else {
        format!("{}, {peer}", chain.join(", "))
    };
    ClientAddr { ip, forwarded_for }
}

/// An IPv4 client seen on a dual-stack socket (`::ffff:a.b.c.d`) is that IPv4 client.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// 10.0.0.0/8 and ::1 are the trusted proxies.
    fn trusted(a: IpAddr) -> bool {
        match a {
            IpAddr::V4(v4) => v4.octets()[0] == 10,
            IpAddr::V6(v6) => v6.is_loopback(),
        }
    }

    fn run(peer: &str, xff: &[&str]) -> ClientAddr {
        resolve(ip(peer), xff.iter().map(|v| v.as_bytes()), trusted)
    }

    #[test]
    fn from_an_untrusted_peer_the_header_is_replaced() {
        let c = run("203.0.113.9", &["198.51.100.1"]);
        assert_eq!(c.ip, ip("203.0.113.9"));
        assert_eq!(c.forwarded_for, "203.0.113.9");
    }

    #[test]
    fn from_a_trusted_proxy_the_nearest_untrusted_hop_is_the_client() {
        let c = run("10.0.0.5", &["198.51.100.1, 203.0.113.7, 10.0.0.9"]);
        assert_eq!(
            c.ip,
            ip("203.0.113.7"),
            "the spoofable left part is not believed"
        );
        assert_eq!(
            c.forwarded_for,
            "198.51.100.1, 203.0.113.7, 10.0.0.9, 10.0.0.5"
        );
        // Several header lines are one list, in order.
        let c = run("10.0.0.5", &["198.51.100.1", "203.0.113.7"]);
        assert_eq!(c.ip, ip("203.0.113.7"));
        assert_eq!(c.forwarded_for, "198.51.100.1, 203.0.113.7, 10.0.0.5");
    }

    #[test]
    fn garbage_or_nothing_leaves_the_last_believed_address() {
        assert_eq!(run("10.0.0.5", &[]).ip, ip("10.0.0.5"));
        assert_eq!(run("10.0.0.5", &[]).forwarded_for, "10.0.0.5");
        assert_eq!(run("10.0.0.5", &["203.0.113.7, junk"]).ip, ip("10.0.0.5"));
        assert_eq!(run("10.0.0.5", &["junk, 10.0.0.8"]).ip, ip("10.0.0.8"));
        // Every hop trusted: the leftmost.
        assert_eq!(run("10.0.0.5", &["10.0.0.1, 10.0.0.2"]).ip, ip("10.0.0.1"));
        assert_eq!(run("::1", &["::ffff:203.0.113.7"]).ip, ip("203.0.113.7"));
    }

    #[test]
    fn a_long_chain_is_cut() {
        let long = vec!["10.0.0.1"; 100].join(", ");
        let c = run("10.0.0.5", &[&format!("203.0.113.7, {long}")]);
        assert_eq!(c.ip, ip("10.0.0.1"), "the 32 nearest hops only");
    }
}
