//! RFC 7662 token introspection through the gateway's one upstream exchange
//! ([`crate::backend::exchange`]: Pingora's pooled connector, so `https://` goes through the same
//! rustls stack and the same bounds as the upstream traffic), with positive answers cached.
//!
//! Only a clear answer about the token is final: `active: false`, a past `exp` or unusable claims.
//! Anything wrong with the exchange itself (refused connection, timeout, status other than 200,
//! a body that is not a JSON object) is `Unavailable` and is not cached, so the next request asks
//! again.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use pingora::http::RequestHeader;
use serde_json::{Map, Value};

use super::cache::{self, Cache};
use super::claims::Mapping;
use super::{read_key_file, unix_now, Identity, IdentityError, IntrospectionConfig, SetupError};
use crate::backend::exchange::{Attempt, HttpClient, Replay, Target, UpstreamError};
use crate::backend::trust::Trust;
use crate::protocol::url::AbsoluteUrl;

/// Largest introspection answer read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Where the endpoint is, from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub tls: bool,
    /// Name or address to look up (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// `Host` header value, as written in the URL.
    pub authority: String,
    /// Path and query.
    pub path: String,
}

impl Endpoint {
    pub(crate) fn parse(url: &str) -> Option<Endpoint> {
        let bad = |c: char| c.is_ascii_whitespace() || c.is_control() || c == '#';
        if url.contains(bad) {
            return None;
        }
        let parsed = AbsoluteUrl::parse(url)?;
        let tls = parsed.https;
        let authority = parsed.authority;
        let path = if parsed.rest.is_empty() {
            "/".to_string()
        } else if parsed.rest.starts_with('?') {
            format!("/{}", parsed.rest)
        } else {
            parsed.rest.to_string()
        };
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']')?;
            let port = match after {
                "" => default_port,
                p => p.strip_prefix(':')?.parse().ok()?,
            };
            (host, port)
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host, port.parse().ok()?),
                None => (authority, default_port),
            }
        };
        if host.is_empty() {
            return None;
        }
        Some(Endpoint {
            tls,
            host: host.to_string(),
            port,
            authority: authority.to_string(),
            path,
        })
    }
}

/// `application/x-www-form-urlencoded` encoding of one value (RFC 6749 appendix B, also used
/// for the client credentials of HTTP Basic authentication, RFC 6749 §2.3.1).
fn form_encode(value: &[u8]) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for &b in value {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) struct Introspector {
    endpoint: Endpoint,
    /// `Basic ...`, marked sensitive.
    authorization: Option<http::HeaderValue>,
    timeout: Duration,
    cache_ttl: Duration,
    audience: Vec<String>,
    mapping: Mapping,
    cache: Cache,
    http: HttpClient,
    /// The CA of an `https://` endpoint's certificate (`ca_file`), if given.
    trust: Option<Trust>,
}

/// Why an exchange gave no answer (for the log; the caller sees `Unavailable`).
type Failure = &'static str;

impl Introspector {
    pub(crate) fn new(
        config: &IntrospectionConfig,
        mapping: Mapping,
    ) -> Result<Introspector, SetupError> {
        let endpoint = Endpoint::parse(&config.url).ok_or(SetupError::Url)?;
        let authorization = match &config.client_id {
            None => None,
            Some(id) => {
                let secret = match &config.client_secret_file {
                    Some(path) => {
                        let mut s = read_key_file(path)?;
                        let kept = s.trim_ascii_end().len();
                        s.truncate(kept);
                        s
                    }
                    None => Vec::new(),
                };
                let pair = format!("{}:{}", form_encode(id.as_bytes()), form_encode(&secret));
                let value = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                );
                let mut value = http::HeaderValue::from_str(&value).map_err(|_| SetupError::Url)?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let trust = match &config.ca_file {
            Some(path) => Some(Trust::load(path).map_err(SetupError::Trust)?),
            None => None,
        };
        Ok(Introspector {
            trust,
            endpoint,
            authorization,
            timeout: config.timeout,
            cache_ttl: config.cache_ttl,
            audience: config.audience.clone(),
            mapping,
            cache: Cache::new(config.cache_entries),
            http: HttpClient::default(),
        })
    }

    pub(crate) async fn verify(&self, token: &str) -> Result<Identity, IdentityError> {
        let key = cache::key(token);
        if let Some(identity) = self.cache.get(&key, Instant::now()) {
            return Ok(identity);
        }
        let body = format!(
            "token={}&token_type_hint=access_token",
            form_encode(token.as_bytes())
        );
        let answer = match pingora::time::timeout(self.timeout, self.ask(Bytes::from(body))).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(why)) => {
                tracing::warn!(url = %self.endpoint_display(), reason = why, "token introspection failed");
                return Err(IdentityError::Unavailable);
            }
            Err(_) => {
                tracing::warn!(url = %self.endpoint_display(), "token introspection timed out");
                return Err(IdentityError::Unavailable);
            }
        };
        let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(&answer) else {
            tracing::warn!(url = %self.endpoint_display(), "token introspection answer is not a JSON object");
            return Err(IdentityError::Unavailable);
        };
        let (identity, exp) = self.judge(&claims, unix_now())?;
        let now = Instant::now();
        let mut expires = now + self.cache_ttl;
        if let Some(exp) = exp {
            let left = Duration::from_secs(exp.saturating_sub(unix_now()));
            expires = expires.min(now + left);
        }
        self.cache.insert(key, identity.clone(), expires, now);
        Ok(identity)
    }

    fn endpoint_display(&self) -> String {
        let e = &self.endpoint;
        let scheme = if e.tls { "https" } else { "http" };
        format!("{scheme}://{}{}", e.authority, e.path)
    }

    /// Identity and `exp` of an answer.
    fn judge(
        &self,
        claims: &Map<String, Value>,
        now: u64,
    ) -> Result<(Identity, Option<u64>), IdentityError> {
        match claims.get("active") {
            Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => return Err(IdentityError::Invalid),
            _ => return Err(IdentityError::Unavailable),
        }
        let time = |name: &str| match claims.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
                .map(Some)
                .ok_or(IdentityError::Unavailable),
        };
        let exp = time("exp")?;
        if exp.is_some_and(|exp| exp < now) {
            return Err(IdentityError::Expired);
        }
        if time("nbf")?.is_some_and(|nbf| nbf > now) {
            return Err(IdentityError::Invalid);
        }
        if !self.audience.is_empty() {
            let ok = match claims.get("aud") {
                Some(Value::String(a)) => self.audience.contains(a),
                Some(Value::Array(list)) => list
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|a| self.audience.iter().any(|w| w == a)),
                _ => false,
            };
            if !ok {
                return Err(IdentityError::Invalid);
            }
        }
        Ok((self.mapping.identity(claims)?, exp))
    }

    async fn resolve(&self) -> Result<SocketAddr, Failure> {
        let e = &self.endpoint;
        let mut addrs = tokio::net::lookup_host((e.host.as_str(), e.port))
            .await
            .map_err(|_| "name lookup failed")?;
        addrs.next().ok_or("name lookup found no address")
    }

    /// POST the form and read the whole answer of a 200.
    async fn ask(&self, body: Bytes) -> Result<Bytes, Failure> {
        let addr = self.resolve().await?;
        let target = Target {
            tls: self.endpoint.tls,
            trust: self.trust.as_ref(),
            host: Some(&self.endpoint.host),
            authority: Some(&self.endpoint.authority),
            connect_timeout: self.timeout,
            read_timeout: self.timeout,
            max_response_bytes: MAX_RESPONSE_BYTES,
        };
        let request = self
            .request(body.len())
            .map_err(|_| "cannot build the request")?;
        let answer = self
            .http
            .exchange(&target, addr, &request, &body, Replay::IfStale)
            .await
            .map_err(|e| match e {
                Attempt::NotConnected { .. } => "connect failed",
                Attempt::Failed(UpstreamError::Timeout) => "timed out",
                Attempt::Failed(UpstreamError::TooLarge(_)) => "the answer is too large",
                Attempt::Failed(_) => "the exchange broke off",
            })?;
        if answer.header.status.as_u16() != 200 {
            return Err("the endpoint did not answer 200");
        }
        Ok(answer.body)
    }

    fn request(&self, content_length: usize) -> pingora::Result<RequestHeader> {
        let mut req = RequestHeader::build("POST", self.endpoint.path.as_bytes(), Some(6))?;
        req.insert_header("Content-Type", "application/x-www-form-urlencoded")?;
        req.insert_header("Accept", "application/json")?;
        req.insert_header("Content-Length", content_length)?;
        if let Some(auth) = &self.authorization {
            req.insert_header("Authorization", auth.clone())?;
        }
        Ok(req)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls() {
        let e = Endpoint::parse("https://idp.example:8443/oauth2/introspect?x=1").unwrap();
        assert_eq!(
            e,
            Endpoint {
                tls: true,
                host: "idp.example".into(),
                port: 8443,
                authority: "idp.example:8443".into(),
                path: "/oauth2/introspect?x=1".into(),
            }
        );
        let e = Endpoint::parse("http://127.0.0.1").unwrap();
        assert_eq!((e.port, e.path.as_str(), e.tls), (80, "/", false));
        let e = Endpoint::parse("HTTP://[::1]:9000/i").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 9000));
        for bad in [
            "ftp://a/b",
            "http://",
            "http://user:pw@a/",
            "http://a:x/",
            "http://a/b c",
            "http://a/#f",
            "http://[::1/",
            "https://:80/",
        ] {
            assert_eq!(Endpoint::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn form_encoding() {
        assert_eq!(form_encode(b"a-Z.0_~"), "a-Z.0_~");
        assert_eq!(form_encode(b"a+b/c= &"), "a%2Bb%2Fc%3D%20%26");
    }
}
