//! Who the caller of a legacy-farm store is: the CitrixAuth token of a request is checked (a JWT
//! verified locally, or an opaque token asked about at an RFC 7662 introspection endpoint) and
//! turned into the `DOMAIN\user` name and group SIDs sent to the farms.
//!
//! Every failure collapses into three outcomes the proxy can answer: [`IdentityError::Invalid`]
//! and [`IdentityError::Expired`] become a CitrixAuth challenge, [`IdentityError::Unavailable`]
//! a 503. Tokens never appear in logs or error messages.

mod cache;
mod claims;
mod introspection;
mod jwt;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use crate::config::{
    IdentityConfig, IdentitySource, IntrospectionConfig, JwtAlgorithm, JwtConfig,
};
use crate::protocol::nfuse::Credentials;
pub use claims::{check_sid, map_user};

/// Longest token looked at; longer ones are refused before any parsing or I/O.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Shortest HS256 secret accepted: RFC 7518 §3.2 asks for a key as long as the hash (256 bits).
pub const MIN_SECRET_LEN: usize = 32;
/// Largest key or secret file read; PEM public keys are a few KiB.
const MAX_KEY_FILE_LEN: u64 = 64 * 1024;
/// Largest leeway accepted (the configuration refuses more, see `config::file`).
pub const MAX_LEEWAY: Duration = Duration::from_secs(crate::config::file::MAX_JWT_LEEWAY_SECONDS);

/// The user as the farms see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `DOMAIN\user`.
    pub sam: String,
    /// Group SIDs (`S-1-...`), possibly none.
    pub sids: Vec<String>,
}

impl Identity {
    /// What a trusting farm is told about the user: the account name and its groups.
    pub fn credentials(&self) -> Credentials {
        Credentials {
            sam: self.sam.clone(),
            sids: self.sids.clone(),
        }
    }
}

/// Why a token yields no identity.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum IdentityError {
    /// Bad signature or algorithm, wrong audience or issuer, not yet valid, inactive, or no
    /// usable user name or SIDs.
    #[error("the token is not valid")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    /// The introspection endpoint could not be asked or gave no usable answer.
    #[error("the token cannot be checked now")]
    Unavailable,
}

impl IdentityError {
    /// The CitrixAuth challenge `reason`; empty for [`IdentityError::Unavailable`], which is
    /// answered with a 503 rather than a challenge.
    pub fn challenge_reason(self) -> &'static str {
        match self {
            IdentityError::Invalid => "invalidtoken",
            IdentityError::Expired => "expired",
            IdentityError::Unavailable => "",
        }
    }

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            IdentityError::Invalid => "invalid",
            IdentityError::Expired => "expired",
            IdentityError::Unavailable => "unavailable",
        }
    }
}

/// Why a [`Verifier`] cannot be built or a token minted. Messages name files, never their content.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: larger than {MAX_KEY_FILE_LEN} bytes, not a key file", path.display())]
    TooLarge { path: PathBuf },
    #[error("{}: the HS256 secret must be at least {MIN_SECRET_LEN} bytes", path.display())]
    ShortSecretFile { path: PathBuf },
    #[error("the HS256 secret must be at least {MIN_SECRET_LEN} bytes")]
    ShortSecret,
    #[error("{}: not a PEM {what} public key", path.display())]
    BadKey { path: PathBuf, what: &'static str },
    #[error("{}: holds a private key; configure the public key", path.display())]
    PrivateKey { path: PathBuf },
    #[error("the leeway must be at most {} seconds", MAX_LEEWAY.as_secs())]
    Leeway,
    #[error("the introspection url must be http://host[:port]/path or https://...")]
    Url,
    #[error("cannot build the token: {0}")]
    Mint(&'static str),
    #[error(transparent)]
    Trust(crate::backend::trust::TrustError),
}

fn read_key_file(path: &Path) -> Result<Vec<u8>, SetupError> {
    use std::io::Read;
    let read_err = |source| SetupError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_KEY_FILE_LEN {
        return Err(SetupError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
}

/// Read an HS256 secret: the file's bytes with trailing whitespace (an editor's final newline)
/// trimmed; at least [`MIN_SECRET_LEN`] bytes must remain.
pub fn read_secret(path: &Path) -> Result<Vec<u8>, SetupError> {
    let mut bytes = read_key_file(path)?;
    let kept = bytes.trim_ascii_end().len();
    bytes.truncate(kept);
    if bytes.len() < MIN_SECRET_LEN {
        return Err(SetupError::ShortSecretFile {
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
}

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Sign an HS256 token for `user` valid from now for `ttl`: claims `sub`, `iat`, `nbf`, `exp`,
/// `aud` (if given) and `sids` (if any).
pub fn mint_hs256(
    secret: &[u8],
    user: &str,
    audience: Option<&str>,
    ttl: Duration,
    sids: &[String],
) -> Result<String, SetupError> {
    if secret.len() < MIN_SECRET_LEN {
        return Err(SetupError::ShortSecret);
    }
    let now = unix_now();
    let exp = now
        .checked_add(ttl.as_secs())
        .ok_or(SetupError::Mint("the lifetime is too long"))?;
    let mut claims = serde_json::Map::new();
    claims.insert("sub".into(), user.into());
    claims.insert("iat".into(), now.into());
    claims.insert("nbf".into(), now.into());
    claims.insert("exp".into(), exp.into());
    if let Some(aud) = audience {
        claims.insert("aud".into(), aud.into());
    }
    if !sids.is_empty() {
        claims.insert("sids".into(), sids.into());
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .map_err(|_| SetupError::Mint("signing failed"))
}

enum Source {
    Jwt(Box<jwt::JwtVerifier>),
    Introspection(Box<introspection::Introspector>),
}

/// Checks tokens and maps them to identities; build once, share in an `Arc`.
pub struct Verifier {
    source: Source,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.source {
            Source::Jwt(_) => "jwt",
            Source::Introspection(_) => "introspection",
        };
        f.debug_struct("Verifier").field("source", &kind).finish()
    }
}

impl Verifier {
    /// Read the keys and secrets `config` names.
    pub fn new(config: &IdentityConfig) -> Result<Verifier, SetupError> {
        let mapping = claims::Mapping::new(config);
        let source = match &config.source {
            IdentitySource::Jwt(jwt) => Source::Jwt(Box::new(jwt::JwtVerifier::new(jwt, mapping)?)),
            IdentitySource::Introspection(i) => {
                Source::Introspection(Box::new(introspection::Introspector::new(i, mapping)?))
            }
        };
        Ok(Verifier { source })
    }

    /// The identity `token` stands for.
    pub async fn verify(&self, token: &str) -> Result<Identity, IdentityError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(IdentityError::Invalid);
        }
        match &self.source {
            Source::Jwt(v) => v.verify(token),
            Source::Introspection(v) => v.verify(token).await,
        }
    }
}

#[cfg(test)]
mod tests;
