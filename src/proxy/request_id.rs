//! The request id: one per request, in the access log line and sent upstream as `X-Request-Id`,
//! so an operator can follow a request from the gateway's log into a StoreFront server's.
//!
//! A client's (or a front proxy's) `X-Request-Id` is kept when it is sane: 1 to 64 characters
//! of `[A-Za-z0-9._:-]`, one header. Anything else (spaces, quotes, control characters, a second
//! header, an overlong value) could break a log line or be a vehicle for log injection, so the
//! gateway makes its own instead. Its own ids are a random 32-bit prefix drawn once per process
//! (so two replicas do not hand out the same ids) and a counter: unique, cheap (no system call
//! per request), and 24 hex digits long.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use http::HeaderMap;

/// The header carrying it, both ways.
pub const HEADER: &str = "x-request-id";
/// Longest client-sent id kept.
const MAX_LEN: usize = 64;

/// A request's id (visible ASCII, safe in a log line and a header value).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestId(String);

impl RequestId {
    /// The client's sane `X-Request-Id`, else a new one.
    pub fn for_request(headers: &HeaderMap) -> RequestId {
        let mut values = headers.get_all(HEADER).iter();
        match (values.next(), values.next()) {
            (Some(v), None) => match v.to_str() {
                Ok(s) if is_sane(s) => RequestId(s.to_string()),
                _ => RequestId::generate(),
            },
            _ => RequestId::generate(),
        }
    }

    /// A new id of this process.
    pub fn generate() -> RequestId {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        RequestId(format!("{:08x}{n:016x}", prefix()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_sane(s: &str) -> bool {
    (1..=MAX_LEN).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// This process's random prefix (0 if the system has no randomness to give, which only makes
/// ids less distinct across replicas).
fn prefix() -> u32 {
    static PREFIX: OnceLock<u32> = OnceLock::new();
    *PREFIX.get_or_init(|| {
        let mut bytes = [0u8; 4];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
        u32::from_le_bytes(bytes)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(HEADER, http::HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    #[test]
    fn a_sane_client_id_is_kept() {
        for id in [
            "abc",
            "7f3e9c1a-0b2d-4c5e-9f10-1a2b3c4d5e6f",
            "req:1.2_3",
            &"a".repeat(64),
        ] {
            assert_eq!(
                RequestId::for_request(&headers(&[id.as_bytes()])).as_str(),
                id
            );
        }
    }

    #[test]
    fn anything_else_gets_a_new_id() {
        let bad: [&[u8]; 7] = [
            b"",
            b"a b",
            b"a\"b",
            b"a=b",
            b"\xc3\xa9",
            b"a\tb",
            &[b'a'; 65],
        ];
        for v in bad {
            let id = RequestId::for_request(&headers(&[v]));
            assert_eq!(id.as_str().len(), 24, "{v:?}");
            assert!(id.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        }
        // Two headers: neither is believed.
        assert_eq!(
            RequestId::for_request(&headers(&[b"a", b"b"]))
                .as_str()
                .len(),
            24
        );
        assert_eq!(RequestId::for_request(&HeaderMap::new()).as_str().len(), 24);
    }

    #[test]
    fn generated_ids_are_distinct() {
        let (a, b) = (RequestId::generate(), RequestId::generate());
        assert_ne!(a, b);
        assert_eq!(a.as_str()[..8], b.as_str()[..8], "one prefix per process");
    }
}
