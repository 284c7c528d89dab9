//! Who may change state through the admin listener (today `POST /canary/{store}`; reading
//! endpoints such as `/metrics` and `GET /canary` stay open, like every Prometheus target).
//!
//! The rule, decided once at start by [`MutationAccess::new`]:
//! - a token file is configured (`admin_token_file`): every change needs
//!   `Authorization: Bearer <token>`, on loopback too (a configured token is never ignored);
//! - no token and the admin listener is on loopback: changes are open (only local users can
//!   reach it, as with the demo);
//! - no token and the admin listener is reachable from elsewhere: changes are refused (403).
//!   `-t` already refuses this setup when a store has a canary; the refusal here covers the rest.
//!
//! The token is kept only as its SHA-256 digest, compared in constant time: it can appear in no
//! log, no `Debug` output and no metric.

use std::net::SocketAddr;
use std::path::Path;

use ring::digest;

use crate::identity::MIN_SECRET_LEN;

/// Longest `Authorization` header value looked at.
const MAX_AUTHORIZATION_LEN: usize = 1024;
/// Largest token file read.
const MAX_TOKEN_FILE_LEN: u64 = 1024;

/// The admin bearer token, as its digest.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

/// Why a token file cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token must be at least {MIN_SECRET_LEN} characters")]
    Short,
    #[error("the token must be printable ASCII without spaces (it travels in a header)")]
    NotPrintable,
    #[error("cannot read it: {0}")]
    File(String),
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, bytes);
    <[u8; 32]>::try_from(d.as_ref()).unwrap_or_default()
}

impl AdminToken {
    /// A token from its text: printable ASCII without spaces, [`MIN_SECRET_LEN`] characters
    /// at least (`head -c 32 /dev/urandom | base64` gives 44).
    pub fn new(token: &[u8]) -> Result<AdminToken, TokenError> {
        if !token.iter().all(|b| (0x21..=0x7e).contains(b)) {
            return Err(TokenError::NotPrintable);
        }
        if token.len() < MIN_SECRET_LEN {
            return Err(TokenError::Short);
        }
        Ok(AdminToken {
            digest: sha256(token),
        })
    }

    /// Read the token from `path` (trailing whitespace, such as a final newline, dropped).
    pub fn from_file(path: &Path) -> Result<AdminToken, TokenError> {
        use std::io::Read;
        let file = std::fs::File::open(path).map_err(|e| TokenError::File(e.to_string()))?;
        let mut text = Vec::new();
        file.take(MAX_TOKEN_FILE_LEN + 1)
            .read_to_end(&mut text)
            .map_err(|e| TokenError::File(e.to_string()))?;
        if text.len() as u64 > MAX_TOKEN_FILE_LEN {
            return Err(TokenError::File(format!(
                "larger than {MAX_TOKEN_FILE_LEN} bytes"
            )));
        }
        AdminToken::new(text.trim_ascii_end())
    }

    /// Is `presented` the token? Constant time in the token's content: digests are compared,
    /// every byte of them.
    pub fn matches(&self, presented: &[u8]) -> bool {
        let other = sha256(presented);
        let diff = self
            .digest
            .iter()
            .zip(other.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

/// What a request that changes state needs.
#[derive(Debug, Clone)]
pub enum MutationAccess {
    /// Anyone who reaches the listener (it is on loopback and no token is configured).
    Open,
    /// `Authorization: Bearer <token>`.
    Token(AdminToken),
    /// Nobody: the listener is reachable from other hosts and no token is configured.
    Refused,
}

/// Why a change was not let through (metric label values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No token, or not the right one: 401 with `WWW-Authenticate: Bearer`.
    Unauthorized,
    /// Changes are off on this listener: 403.
    Forbidden,
}

impl Denied {
    pub fn as_str(self) -> &'static str {
        match self {
            Denied::Unauthorized => "unauthorized",
            Denied::Forbidden => "forbidden",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Denied::Unauthorized => 401,
            Denied::Forbidden => 403,
        }
    }
}

impl MutationAccess {
    /// The rule for an admin listener on `listen`, with the configured token if any.
    pub fn new(listen: SocketAddr, token: Option<AdminToken>) -> MutationAccess {
        match token {
            Some(t) => MutationAccess::Token(t),
            None if listen.ip().is_loopback() => MutationAccess::Open,
            None => MutationAccess::Refused,
        }
    }

    /// May a request with these `Authorization` header values change state?
    pub fn check<'a>(
        &self,
        authorization: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(), Denied> {
        match self {
            MutationAccess::Open => Ok(()),
            MutationAccess::Refused => Err(Denied::Forbidden),
            MutationAccess::Token(token) => match bearer(authorization) {
                Some(presented) if token.matches(presented) => Ok(()),
                _ => Err(Denied::Unauthorized),
            },
        }
    }
}

/// The credentials of exactly one `Authorization: Bearer <credentials>` header (scheme in any
/// case, one or more spaces after it); `None` for anything else, several headers included.
fn bearer<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Option<&'a [u8]> {
    let mut values = values.into_iter();
    let value = values.next()?;
    if values.next().is_some() || value.len() > MAX_AUTHORIZATION_LEN {
        return None;
    }
    let scheme = value.get(..7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let credentials = value.get(7..)?.trim_ascii();
    (!credentials.is_empty()).then_some(credentials)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TOKEN: &[u8] = b"0123456789abcdef0123456789abcdef-admin";

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn loopback_without_a_token_is_open_elsewhere_refused() {
        for (listen, open) in [
            ("127.0.0.1:9100", true),
            ("127.9.9.9:9100", true),
            ("[::1]:9100", true),
            ("0.0.0.0:9100", false),
            ("[::]:9100", false),
            ("10.0.0.5:9100", false),
            ("[::ffff:127.0.0.1]:9100", false),
        ] {
            let access = MutationAccess::new(addr(listen), None);
            let want = if open { Ok(()) } else { Err(Denied::Forbidden) };
            assert_eq!(access.check([]), want, "{listen}");
        }
    }

    #[test]
    fn a_configured_token_is_required_on_loopback_too() {
        for listen in ["127.0.0.1:9100", "0.0.0.0:9100"] {
            let access = MutationAccess::new(addr(listen), Some(AdminToken::new(TOKEN).unwrap()));
            let good = [b"Bearer ", TOKEN].concat();
            let lower = [b"bearer   ", TOKEN].concat();
            assert_eq!(access.check([good.as_slice()]), Ok(()));
            assert_eq!(access.check([lower.as_slice()]), Ok(()));
            let mut wrong = good.clone();
            if let Some(last) = wrong.last_mut() {
                *last ^= 1;
            }
            let basic = [b"Basic ", TOKEN].concat();
            for bad in [
                vec![],
                vec![wrong.as_slice()],
                vec![basic.as_slice()],
                vec![&b"Bearer"[..]],
                vec![&b"Bearer "[..]],
                vec![TOKEN],
                vec![good.as_slice(), good.as_slice()],
                vec![&[0xff; 2000][..]],
            ] {
                assert_eq!(
                    access.check(bad.iter().copied()),
                    Err(Denied::Unauthorized),
                    "{listen}"
                );
            }
        }
    }

    #[test]
    fn tokens_must_be_long_and_printable_and_never_show() {
        assert_eq!(AdminToken::new(b"short").unwrap_err(), TokenError::Short);
        assert_eq!(
            AdminToken::new(b"0123456789abcdef 0123456789abcdef").unwrap_err(),
            TokenError::NotPrintable
        );
        let t = AdminToken::new(TOKEN).unwrap();
        assert!(t.matches(TOKEN));
        assert!(!t.matches(b""));
        assert_eq!(format!("{t:?}"), "AdminToken(..)");
        let shown = format!("{:?}", MutationAccess::Token(t));
        assert!(!shown.contains("0123"), "{shown}");
    }

    #[test]
    fn token_files() {
        let dir = std::env::temp_dir().join(format!("sessiongate-admin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("admin.token");
        std::fs::write(&file, [TOKEN, b"\n"].concat()).unwrap();
        assert!(AdminToken::from_file(&file).unwrap().matches(TOKEN));
        std::fs::write(&file, b"too short\n").unwrap();
        assert!(AdminToken::from_file(&file).is_err());
        assert!(AdminToken::from_file(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
