//! Launch tags: a launch URL handed out from a pool leads back to that pool.
//!
//! When a StoreFront answer from one pool is rewritten, the launch URLs in it carry a tag that
//! names the pool and is bound, by HMAC-SHA256 under a key every gateway replica shares, to the
//! store path and the launch id. A client cannot pick a pool by editing the URL: a forged,
//! altered, truncated tag, or one taken from another store or launch, does not [`open`], and
//! wiring answers such a launch with 404.
//!
//! Format (45 characters, all URL-safe, fit for a path segment or a query value unescaped):
//! `s.` or `c.` (the pool, readable in logs) then the full 32-byte tag in base64url without
//! padding. The whole tag is kept so the check can be ring's constant-time `hmac::verify`, which
//! only compares whole tags. The signed message is a domain string, then the store and the
//! launch id each preceded by its length (so no two pairs run together), then the pool. A new
//! format takes a new domain string and prefix; old tags then stop opening (a 404).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;

use super::PoolName;

/// Smallest key accepted: HMAC-SHA256 wants at least 256 bits.
pub const MIN_KEY_LEN: usize = 32;
/// Separates launch tags from every other use of a shared key.
const DOMAIN: &[u8] = b"sessiongate launch tag v1\0";
/// Bytes of an HMAC-SHA256 tag.
const MAC_LEN: usize = 32;
/// Length of a tag's text: prefix (2) and the base64url of the MAC.
pub const TAG_TEXT_LEN: usize = 2 + (MAC_LEN * 4).div_ceil(3);

/// The shared launch-tag key.
#[derive(Clone)]
pub struct TagKey(hmac::Key);

impl std::fmt::Debug for TagKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("TagKey(..)")
    }
}

impl TagKey {
    /// A key from secret bytes; `None` when shorter than [`MIN_KEY_LEN`].
    pub fn new(secret: &[u8]) -> Option<TagKey> {
        (secret.len() >= MIN_KEY_LEN).then(|| TagKey(hmac::Key::new(hmac::HMAC_SHA256, secret)))
    }
}

/// The message the MAC covers.
fn message(store: &str, launch_id: &str, pool: PoolName) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN.len() + 17 + store.len() + launch_id.len());
    m.extend_from_slice(DOMAIN);
    for part in [store, launch_id] {
        m.extend_from_slice(&(part.len() as u64).to_be_bytes());
        m.extend_from_slice(part.as_bytes());
    }
    m.push(prefix(pool));
    m
}

/// The readable first letter of a tag.
fn prefix(pool: PoolName) -> u8 {
    match pool {
        PoolName::Stable => b's',
        PoolName::Canary => b'c',
    }
}

/// The tag carried in a rewritten launch URL: binds pool + store path + launch id.
/// URL-safe characters only (`[A-Za-z0-9._-]`).
pub fn seal(key: &TagKey, store: &str, launch_id: &str, pool: PoolName) -> String {
    let mac = hmac::sign(&key.0, &message(store, launch_id, pool));
    let mut out = String::with_capacity(TAG_TEXT_LEN);
    out.push(char::from(prefix(pool)));
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(mac.as_ref(), &mut out);
    out
}

/// The pool the tag names, or None when forged, altered, for another store or id, or malformed.
pub fn open(key: &TagKey, store: &str, launch_id: &str, tag: &str) -> Option<PoolName> {
    // Length first: garbage of any size costs nothing more.
    if tag.len() != TAG_TEXT_LEN {
        return None;
    }
    let (pool, mac) = if let Some(mac) = tag.strip_prefix("s.") {
        (PoolName::Stable, mac)
    } else if let Some(mac) = tag.strip_prefix("c.") {
        (PoolName::Canary, mac)
    } else {
        return None;
    };
    // The decoder refuses non-canonical trailing bits, so one MAC has exactly one text.
    let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
    hmac::verify(&key.0, &message(store, launch_id, pool), &mac).ok()?;
    Some(pool)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests;
