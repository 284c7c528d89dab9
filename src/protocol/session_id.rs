//! Session ids the gateway hands out for sessions on legacy farms.
//!
//! A farm names a session by (`InName`, `HostId`, `SessionId`), and only within that farm; the
//! client gets one opaque, URL-safe token carrying all of it plus the farm, and gives it back in
//! `.../sessions/v1/{id}/launch/ica`. The token is signed with HMAC-SHA256 under a key every
//! gateway instance shares, and the signature also covers the user the id was listed for, so an id
//! cannot be forged, altered, or replayed by another user: any of those is simply "no such
//! session" (404).
//!
//! Layout before base64url (no padding): `version(1) | field*5 | tag(16)`, each field a length
//! byte and that many bytes of UTF-8. Signed, not encrypted: a client that decodes one learns the
//! farm and application names its listing already showed, and the broker's numbers for its own
//! session.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;

/// Layout version; bump when the layout changes (old ids then stop opening, which is a 404).
const VERSION: u8 = 1;
/// Bytes of the HMAC-SHA256 tag kept: 128 bits.
const TAG_LEN: usize = 16;
/// Longest field (bytes); farm values are much shorter in practice.
pub const MAX_FIELD_LEN: usize = 96;
/// Longest id text [`open`] looks at: five full fields, version and tag, in base64.
pub const MAX_ID_LEN: usize = ((1 + 5 * (1 + MAX_FIELD_LEN) + TAG_LEN) * 4).div_ceil(3);
/// Separates the parts of the signed message so no two (user, payload) pairs collide.
const DOMAIN: &[u8] = b"sessiongate session id v1\0";
/// Smallest key accepted: HMAC-SHA256 wants at least 256 bits.
pub const MIN_KEY_LEN: usize = 32;

/// What a session id stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRef {
    /// Configured name of the farm the session lives on.
    pub farm: String,
    /// `InName` of the session's application.
    pub in_name: String,
    /// `HostId/@type`, e.g. `ima-host-id`.
    pub host_id_type: String,
    /// `HostId`.
    pub host_id: String,
    /// `SessionId` (unique per host only).
    pub session_id: String,
}

/// Why an id cannot be made or read.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum SessionIdError {
    /// A field is longer than [`MAX_FIELD_LEN`]: the session cannot be offered to clients.
    #[error("a session field is longer than {MAX_FIELD_LEN} bytes")]
    FieldTooLong,
    /// The key is shorter than [`MIN_KEY_LEN`].
    #[error("the session id key is shorter than {MIN_KEY_LEN} bytes")]
    KeyTooShort,
    /// Not an id this gateway (or one sharing its key) made for this user.
    #[error("unknown session id")]
    Unknown,
}

/// The shared signing key.
#[derive(Clone)]
pub struct SessionIdKey(hmac::Key);

impl std::fmt::Debug for SessionIdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("SessionIdKey(..)")
    }
}

impl SessionIdKey {
    /// A key from secret bytes (at least [`MIN_KEY_LEN`]).
    pub fn new(secret: &[u8]) -> Result<SessionIdKey, SessionIdError> {
        if secret.len() < MIN_KEY_LEN {
            return Err(SessionIdError::KeyTooShort);
        }
        Ok(SessionIdKey(hmac::Key::new(hmac::HMAC_SHA256, secret)))
    }

    fn tag(&self, user: &str, payload: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(DOMAIN);
        // Windows account names compare without regard to case.
        let user = user.to_lowercase();
        ctx.update(&(user.len() as u64).to_be_bytes());
        ctx.update(user.as_bytes());
        ctx.update(payload);
        ctx.sign()
    }

    /// The id of `session`, listed for `user`.
    pub fn seal(&self, user: &str, session: &SessionRef) -> Result<String, SessionIdError> {
        let fields = [
            &session.farm,
            &session.in_name,
            &session.host_id_type,
            &session.host_id,
            &session.session_id,
        ];
        let mut payload = Vec::with_capacity(1 + fields.iter().map(|f| f.len() + 1).sum::<usize>());
        payload.push(VERSION);
        for field in fields {
            let len = u8::try_from(field.len())
                .ok()
                .filter(|&l| usize::from(l) <= MAX_FIELD_LEN)
                .ok_or(SessionIdError::FieldTooLong)?;
            payload.push(len);
            payload.extend_from_slice(field.as_bytes());
        }
        let tag = self.tag(user, &payload);
        payload.extend_from_slice(tag.as_ref().get(..TAG_LEN).unwrap_or_default());
        Ok(URL_SAFE_NO_PAD.encode(payload))
    }

    /// What `id` stands for, if it was made by [`Self::seal`] under this key for `user`.
    pub fn open(&self, user: &str, id: &str) -> Result<SessionRef, SessionIdError> {
        if id.len() > MAX_ID_LEN {
            return Err(SessionIdError::Unknown);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(id)
            .map_err(|_| SessionIdError::Unknown)?;
        let split = raw
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(SessionIdError::Unknown)?;
        let (payload, tag) = raw.split_at(split);
        let expected = self.tag(user, payload);
        let expected = expected.as_ref().get(..TAG_LEN).unwrap_or_default();
        if !same_tag(expected, tag) {
            return Err(SessionIdError::Unknown);
        }
        let (&version, mut rest) = payload.split_first().ok_or(SessionIdError::Unknown)?;
        if version != VERSION {
            return Err(SessionIdError::Unknown);
        }
        let mut next = || -> Result<String, SessionIdError> {
            let (&len, tail) = rest.split_first().ok_or(SessionIdError::Unknown)?;
            let len = usize::from(len);
            // A field longer than `seal` writes: not an id it made, whatever the tag says.
            if len > MAX_FIELD_LEN {
                return Err(SessionIdError::Unknown);
            }
            let field = tail.get(..len).ok_or(SessionIdError::Unknown)?;
            rest = tail.get(len..).unwrap_or_default();
            String::from_utf8(field.to_vec()).map_err(|_| SessionIdError::Unknown)
        };
        let session = SessionRef {
            farm: next()?,
            in_name: next()?,
            host_id_type: next()?,
            host_id: next()?,
            session_id: next()?,
        };
        if !rest.is_empty() {
            return Err(SessionIdError::Unknown);
        }
        Ok(session)
    }
}

/// Compare tags in time independent of where they differ, so timing tells a forger nothing.
fn same_tag(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SessionIdKey {
        SessionIdKey::new(&[byte; 32]).unwrap()
    }

    fn session() -> SessionRef {
        SessionRef {
            farm: "Farm1".into(),
            in_name: "Société Notepad".into(),
            host_id_type: "ima-host-id".into(),
            host_id: "23363".into(),
            session_id: "2".into(),
        }
    }

    #[test]
    fn round_trip_is_url_safe_and_stable() {
        let id = key(1).seal("CORP\\alice", &session()).unwrap();
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(id, key(1).seal("CORP\\alice", &session()).unwrap());
        assert_eq!(key(1).open("CORP\\alice", &id).unwrap(), session());
        // Account names are case-insensitive on Windows.
        assert_eq!(key(1).open("corp\\ALICE", &id).unwrap(), session());
    }

    #[test]
    fn another_key_or_user_does_not_open_it() {
        let id = key(1).seal("CORP\\alice", &session()).unwrap();
        assert_eq!(
            key(2).open("CORP\\alice", &id),
            Err(SessionIdError::Unknown)
        );
        assert_eq!(key(1).open("CORP\\bob", &id), Err(SessionIdError::Unknown));
    }

    #[test]
    fn any_altered_byte_is_refused() {
        let id = key(1).seal("CORP\\alice", &session()).unwrap();
        let raw = URL_SAFE_NO_PAD.decode(&id).unwrap();
        for i in 0..raw.len() {
            let mut forged = raw.clone();
            forged[i] ^= 0x01;
            let forged = URL_SAFE_NO_PAD.encode(&forged);
            assert_eq!(
                key(1).open("CORP\\alice", &forged),
                Err(SessionIdError::Unknown),
                "byte {i}"
            );
        }
        // Truncated, extended, not base64, empty, far too long.
        for bad in [
            &id[..id.len() - 1],
            &format!("{id}A"),
            "not*base64",
            "",
            &"A".repeat(MAX_ID_LEN + 1),
        ] {
            assert_eq!(
                key(1).open("CORP\\alice", bad),
                Err(SessionIdError::Unknown)
            );
        }
    }

    #[test]
    fn limits() {
        assert_eq!(
            SessionIdKey::new(&[0; 31]).unwrap_err(),
            SessionIdError::KeyTooShort
        );
        let mut long = session();
        long.in_name = "x".repeat(MAX_FIELD_LEN + 1);
        assert_eq!(
            key(1).seal("u", &long).unwrap_err(),
            SessionIdError::FieldTooLong
        );
        let mut max = session();
        for f in [
            &mut max.farm,
            &mut max.in_name,
            &mut max.host_id_type,
            &mut max.host_id,
            &mut max.session_id,
        ] {
            *f = "y".repeat(MAX_FIELD_LEN);
        }
        let id = key(1).seal("u", &max).unwrap();
        assert!(id.len() <= MAX_ID_LEN, "{} > {MAX_ID_LEN}", id.len());
        assert_eq!(key(1).open("u", &id).unwrap(), max);
    }
}
