//! Mapping of upstream URLs to public ones.
//!
//! StoreFront writes absolute URLs built from its own host name and store path into session
//! states, endpoint documents, challenges and `Location` headers. A client of the gateway must
//! never see them: a URL that names an upstream authority becomes a URL on the public side.
//! Session ids the gateway puts into URLs are percent-encoded here too ([`encode_segment`]).

use thiserror::Error;

/// A configuration value that cannot serve as a URL base.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UrlError {
    #[error("`{0}` is not an absolute http:// or https:// URL")]
    NotAbsolute(String),
    #[error("`{0}` must not carry a query or a fragment")]
    HasQuery(String),
}

/// The parts of an absolute URL that the mapping looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbsoluteUrl<'a> {
    /// Lower-case scheme: `http` or `https`.
    pub https: bool,
    /// `host[:port]` as written.
    pub authority: &'a str,
    /// Path, query and fragment: everything after the authority (may be empty).
    pub rest: &'a str,
}

impl<'a> AbsoluteUrl<'a> {
    /// Split an `http://` or `https://` URL; `None` for anything else.
    pub fn parse(url: &'a str) -> Option<Self> {
        let (scheme, after) = url.split_once("://")?;
        let https = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            false
        } else {
            return None;
        };
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        Some(AbsoluteUrl {
            https,
            authority,
            rest,
        })
    }

    /// `host:port` in lower case with the scheme's default port made explicit.
    pub fn normalized_authority(&self) -> String {
        normalize_authority(self.authority, self.https)
    }
}

/// `host:port`, lower case, default port added (`80` for http, `443` for https).
pub fn normalize_authority(authority: &str, https: bool) -> String {
    let lower = authority.to_ascii_lowercase();
    // An IPv6 literal is bracketed; a port, if any, follows the closing bracket.
    let has_port = match lower.rfind(']') {
        Some(close) => lower.get(close + 1..).is_some_and(|s| s.starts_with(':')),
        None => lower.contains(':'),
    };
    if has_port {
        lower
    } else {
        format!("{lower}:{}", if https { 443 } else { 80 })
    }
}

/// Maps URLs that point at a store's upstream servers onto the store's public URL.
#[derive(Debug, Clone)]
pub struct UrlMap {
    /// Normalised authorities the upstream may call itself by.
    authorities: Vec<String>,
    /// The store path on the upstream, no trailing slash (`""` for a store at the root).
    upstream_path: String,
    /// The public store URL, no trailing slash.
    public_base: String,
    /// Scheme and authority of the public store URL.
    public_origin: String,
}

impl UrlMap {
    /// `authorities` are `host[:port]` names of the upstream (addresses and host names), matched
    /// with either scheme's default port when they carry none.
    pub fn new(
        authorities: &[String],
        upstream_path: &str,
        public_url: &str,
    ) -> Result<UrlMap, UrlError> {
        let public = AbsoluteUrl::parse(public_url)
            .ok_or_else(|| UrlError::NotAbsolute(public_url.to_string()))?;
        if public.rest.contains(['?', '#']) {
            return Err(UrlError::HasQuery(public_url.to_string()));
        }
        let scheme = if public.https { "https" } else { "http" };
        let mut normalized = Vec::new();
        for a in authorities {
            if a.contains(':') && !a.ends_with(']') {
                normalized.push(a.to_ascii_lowercase());
            } else {
                normalized.push(normalize_authority(a, false));
                normalized.push(normalize_authority(a, true));
            }
        }
        Ok(UrlMap {
            authorities: normalized,
            upstream_path: upstream_path.trim_end_matches('/').to_string(),
            public_base: format!(
                "{scheme}://{}{}",
                public.authority,
                public.rest.trim_end_matches('/')
            ),
            public_origin: format!("{scheme}://{}", public.authority),
        })
    }

    /// The public URL for a path on the upstream (path, query and fragment).
    fn map_path(&self, rest: &str) -> String {
        match rest.strip_prefix(self.upstream_path.as_str()) {
            Some(tail) if tail.is_empty() || tail.starts_with(['/', '?', '#']) => {
                format!("{}{}", self.public_base, tail)
            }
            _ if rest.is_empty() || rest.starts_with('/') => {
                format!("{}{}", self.public_origin, rest)
            }
            _ => format!("{}/{}", self.public_origin, rest),
        }
    }

    /// The public form of `url`, or `None` when it does not point at the upstream.
    ///
    /// Absolute URLs on an upstream authority are mapped (under the upstream store path onto the
    /// public store URL, elsewhere onto the public origin); absolute-path references under the
    /// upstream store path are mapped to the public store URL.
    pub fn rewrite(&self, url: &str) -> Option<String> {
        let trimmed = url.trim();
        if let Some(abs) = AbsoluteUrl::parse(trimmed) {
            let authority = abs.normalized_authority();
            return self
                .authorities
                .contains(&authority)
                .then(|| self.map_path(abs.rest));
        }
        if trimmed.starts_with('/') && !trimmed.starts_with("//") {
            let tail = trimmed.strip_prefix(self.upstream_path.as_str())?;
            if tail.is_empty() || tail.starts_with(['/', '?', '#']) {
                return Some(format!("{}{}", self.public_base, tail));
            }
        }
        None
    }
}

/// Longest session id that can stand in a launch URL.
pub const MAX_SESSION_ID_LEN: usize = 1024;

/// Can `id` stand in a launch URL as it is? Session ids are a closed alphabet: RFC 3986's
/// unreserved characters only, no percent escape (a server that decodes `%2F` before resolving
/// `..` would be sent elsewhere), neither `.` nor `..`, at most [`MAX_SESSION_ID_LEN`] bytes.
pub fn is_session_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_SESSION_ID_LEN
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Percent-encode `value` for use as one path segment: unreserved characters (RFC 3986 §2.3) are
/// kept, every other byte is escaped, so the segment can hold neither `/` nor `..` tricks.
pub fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> UrlMap {
        UrlMap::new(
            &["10.0.0.11:80".into(), "sf.corp.local".into()],
            "/Citrix/Store",
            "https://workspace.example.com/Citrix/Store/",
        )
        .unwrap()
    }

    #[test]
    fn upstream_urls_become_public() {
        let m = map();
        assert_eq!(
            m.rewrite("http://10.0.0.11/Citrix/Store/resources/v2")
                .as_deref(),
            Some("https://workspace.example.com/Citrix/Store/resources/v2")
        );
        assert_eq!(
            m.rewrite("http://10.0.0.11:80/Citrix/Store").as_deref(),
            Some("https://workspace.example.com/Citrix/Store")
        );
        assert_eq!(
            m.rewrite("HTTPS://SF.corp.local/Citrix/Store/x?y=1")
                .as_deref(),
            Some("https://workspace.example.com/Citrix/Store/x?y=1")
        );
        assert_eq!(
            m.rewrite("http://sf.corp.local:8443/Citrix/StoreAuth/auth/v1/token")
                .as_deref(),
            None,
            "another port is another server"
        );
    }

    #[test]
    fn upstream_paths_outside_the_store_keep_only_the_path() {
        assert_eq!(
            map()
                .rewrite("http://10.0.0.11/Citrix/StoreAuth/auth/v1/token")
                .as_deref(),
            Some("https://workspace.example.com/Citrix/StoreAuth/auth/v1/token")
        );
        assert_eq!(
            map().rewrite("http://10.0.0.11").as_deref(),
            Some("https://workspace.example.com")
        );
    }

    #[test]
    fn foreign_and_relative_urls() {
        let m = map();
        assert_eq!(m.rewrite("https://other.example.com/x"), None);
        assert_eq!(m.rewrite("ftp://10.0.0.11/x"), None);
        assert_eq!(m.rewrite("http://user@10.0.0.11/x"), None);
        assert_eq!(
            m.rewrite("/Citrix/Store/resources/v2").as_deref(),
            Some("https://workspace.example.com/Citrix/Store/resources/v2")
        );
        assert_eq!(m.rewrite("/Citrix/StoreWeb"), None);
        assert_eq!(m.rewrite("//10.0.0.11/x"), None);
        assert_eq!(m.rewrite("resources/v2"), None);
    }

    #[test]
    fn different_store_paths() {
        let m = UrlMap::new(
            &["127.0.0.1:9000".into()],
            "/Citrix/Internal/",
            "http://gw:8080/Citrix/Store",
        )
        .unwrap();
        assert_eq!(
            m.rewrite("http://127.0.0.1:9000/Citrix/Internal/session/v1/a/launch/ica")
                .as_deref(),
            Some("http://gw:8080/Citrix/Store/session/v1/a/launch/ica")
        );
    }

    #[test]
    fn bad_public_urls() {
        assert!(UrlMap::new(&[], "/", "workspace.example.com").is_err());
        assert!(UrlMap::new(&[], "/", "https://w/x?y").is_err());
    }

    #[test]
    fn authorities() {
        assert_eq!(normalize_authority("Host", true), "host:443");
        assert_eq!(normalize_authority("[::1]", false), "[::1]:80");
        assert_eq!(normalize_authority("[::1]:81", false), "[::1]:81");
    }
}
