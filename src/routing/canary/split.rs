//! The sticky split: which clients see the canary at a given share.
//!
//! A client key is hashed onto a fixed ring of [`RING`] positions (one per part per million) and
//! the client sees the canary iff its position is below the share. Hence:
//!
//! * one client always lands in one pool at a given share (the key, not the request, decides);
//! * raising the share only moves clients into the canary (a position below 5 % is below 10 %);
//! * every replica and every restart agrees: the hash is fixed here (a word-at-a-time folded
//!   multiply followed by the splitmix64 finaliser), never std's `DefaultHasher`, whose output
//!   may change between Rust releases and is randomly seeded by `RandomState`.
//!
//! The splitmix64 finaliser gives full avalanche, so the high bits the ring uses are uniform
//! even for keys that differ only in a final digit. Each key source hashes under its own domain byte, so a clientName that
//! happens to equal another client's deviceId does not share its position.

use std::net::IpAddr;

use super::PoolName;

/// Positions on the ring: parts per million.
pub const RING: u32 = 1_000_000;

/// A share of clients, 0–100 %, fractions allowed; stored exactly as parts per million.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Share(u32);

impl Share {
    /// No client sees the canary.
    pub const ZERO: Share = Share(0);
    /// Every client sees the canary.
    pub const FULL: Share = Share(RING);

    /// `p` percent, rounded to the nearest part per million (0.5 % is exactly 5,000 ppm).
    /// `None` when not finite or outside 0..=100.
    pub fn from_percent(p: f64) -> Option<Share> {
        if !p.is_finite() || !(0.0..=100.0).contains(&p) {
            return None;
        }
        // In range by the check above: at most 1,000,000, so the cast cannot truncate.
        Some(Share((p * f64::from(RING / 100)).round() as u32))
    }

    /// A share in parts per million; `None` above [`RING`].
    pub fn from_ppm(ppm: u32) -> Option<Share> {
        (ppm <= RING).then_some(Share(ppm))
    }

    /// The share in percent.
    pub fn percent(self) -> f64 {
        f64::from(self.0) / f64::from(RING / 100)
    }

    /// The share in parts per million.
    pub fn ppm(self) -> u32 {
        self.0
    }
}

/// A client's place on the ring (a stable 64-bit hash; never std's DefaultHasher, whose output
/// may change between Rust releases: every replica and every restart must agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientKey(u64);

/// Where the key came from (for logs/metrics; closed set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySource {
    DeviceId,
    ClientName,
    Token,
    Address,
}

impl KeySource {
    /// The metric label / log value.
    pub fn as_str(self) -> &'static str {
        match self {
            KeySource::DeviceId => "device_id",
            KeySource::ClientName => "client_name",
            KeySource::Token => "token",
            KeySource::Address => "address",
        }
    }

    /// The domain byte the source hashes under (see the module doc).
    fn domain(self) -> u8 {
        match self {
            KeySource::DeviceId => b'd',
            KeySource::ClientName => b'n',
            KeySource::Token => b't',
            KeySource::Address => b'a',
        }
    }
}

/// Domain of [`ClientKey::from_bytes`], apart from every [`KeySource`].
const RAW_DOMAIN: u8 = b'r';
/// Prefix of the affinity cookie value; a new format takes a new prefix.
const COOKIE_PREFIX: &str = "k1-";
/// Length of the affinity cookie value: the prefix and 16 lowercase hex digits.
const COOKIE_LEN: usize = COOKIE_PREFIX.len() + 16;

impl ClientKey {
    /// The first present of: deviceId, clientName, a hash of the token, the client address.
    ///
    /// An empty string counts as absent (it would put every such client on one position). The
    /// token is only hashed, never kept. With nothing at all (no address either, which wiring
    /// never passes) the key is the address key of "unknown", source [`KeySource::Address`].
    pub fn derive(
        device_id: Option<&str>,
        client_name: Option<&str>,
        token: Option<&str>,
        addr: Option<IpAddr>,
    ) -> (ClientKey, KeySource) {
        let text = [
            (device_id, KeySource::DeviceId),
            (client_name, KeySource::ClientName),
            (token, KeySource::Token),
        ];
        for (value, source) in text {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                return (ClientKey(hash(source.domain(), v.as_bytes())), source);
            }
        }
        let key = match addr.map(|a| a.to_canonical()) {
            // An IPv4 client seen on a dual-stack socket (::ffff:a.b.c.d) keeps its IPv4 key.
            Some(IpAddr::V4(a)) => hash(KeySource::Address.domain(), &a.octets()),
            Some(IpAddr::V6(a)) => hash(KeySource::Address.domain(), &a.octets()),
            None => hash(KeySource::Address.domain(), b""),
        };
        (ClientKey(key), KeySource::Address)
    }

    /// The key of arbitrary bytes, under a domain of its own (never equal by design to a derived
    /// key of the same text).
    pub fn from_bytes(b: &[u8]) -> ClientKey {
        ClientKey(hash(RAW_DOMAIN, b))
    }

    /// The 64-bit hash itself (for logs and tests).
    pub fn value(self) -> u64 {
        self.0
    }

    /// The key's position on the ring, 0..[`RING`]: the high bits of the hash scaled by
    /// multiplication (no modulo bias, and order-preserving).
    pub fn position(self) -> u32 {
        // (2^64 - 1) * RING >> 64 < RING, so the result fits.
        ((u128::from(self.0) * u128::from(RING)) >> 64) as u32
    }

    /// Opaque text for the affinity cookie: `k1-` and 16 lowercase hex digits.
    ///
    /// Unsigned on purpose: the cookie carries no authority, since a client already chooses its
    /// own key through the deviceId it sends. Forcing a pool is what the trusted header is for.
    pub fn to_cookie(self) -> String {
        format!("{COOKIE_PREFIX}{:016x}", self.0)
    }

    /// Strict: only what [`Self::to_cookie`] writes (prefix, exactly 16 lowercase hex digits).
    pub fn from_cookie(s: &str) -> Option<ClientKey> {
        if s.len() != COOKIE_LEN {
            return None;
        }
        let digits = s.strip_prefix(COOKIE_PREFIX)?;
        // from_str_radix alone would accept a sign and uppercase digits.
        if !digits
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return None;
        }
        u64::from_str_radix(digits, 16).ok().map(ClientKey)
    }
}

/// The pool for `key` at `share`: canary iff the key's ring position < share.
/// Raising the share only moves keys into the canary. Target < 100 ns (criterion bench).
pub fn choose(share: Share, key: ClientKey) -> PoolName {
    if key.position() < share.0 {
        PoolName::Canary
    } else {
        PoolName::Stable
    }
}

/// Seed of the hash state (FNV-1a's offset basis: any fixed odd constant would do).
const SEED: u64 = 0xcbf2_9ce4_8422_2325;
/// Multiplier of the word step (2^64 / golden ratio, odd).
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

/// The hash of the domain byte and `bytes`: 8 bytes at a time (little-endian words, the last one
/// zero-padded), each xored into the state and mixed by a folded 64×64→128-bit multiply, then
/// the length and splitmix64's finaliser. Fixed forever: changing it moves clients between pools
/// (the golden values in the tests pin it).
///
/// A word at a time rather than FNV-1a's byte at a time because tokens are keys too: a 400-byte
/// CitrixAuth token took 410 ns byte-wise, over the 100 ns budget of the split decision. The hash
/// needs spread, not collision resistance: a client chooses its own key through its deviceId.
fn hash(domain: u8, bytes: &[u8]) -> u64 {
    let mut h = SEED ^ u64::from(domain);
    let mut words = bytes.chunks_exact(8);
    for word in words.by_ref() {
        h = fold_multiply(h ^ le_word(word), MULTIPLIER);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        h = fold_multiply(h ^ le_word(tail), MULTIPLIER);
    }
    splitmix64_finalise(h ^ (bytes.len() as u64).rotate_left(32))
}

/// Up to 8 bytes as a little-endian word, zero-padded.
fn le_word(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    for (dst, src) in word.iter_mut().zip(bytes) {
        *dst = *src;
    }
    u64::from_le_bytes(word)
}

/// The 128-bit product's halves xored: every input bit reaches every output bit (a plain 64-bit
/// product only carries bits upwards).
fn fold_multiply(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// The finaliser of splitmix64 (Steele, Lea, Flood 2014; constants from Stafford's Mix13).
fn splitmix64_finalise(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests;
