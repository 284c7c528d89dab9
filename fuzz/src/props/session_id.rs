//! The signed session ids the gateway hands out for sessions on legacy farms.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;
use sessiongate::protocol::session_id::{
    SessionIdError, SessionIdKey, SessionRef, MAX_FIELD_LEN, MAX_ID_LEN,
};

use super::split_selector;

/// The fixed key of the target (32 bytes, the minimum).
const SECRET: &[u8; 32] = b"sessiongate-fuzz-session-id-key!";
/// The user ids are opened for, unless the input names one.
const USER: &str = "CORP\\alice";

/// The layout of `session_id.rs`, written again from its documentation, to sign payloads the
/// fuzzer makes: HMAC-SHA256 over a domain string, the lower-cased user (length first, 8 bytes
/// big-endian) and the payload; the first 16 bytes are the tag.
const DOMAIN: &[u8] = b"sessiongate session id v1\0";
const TAG_LEN: usize = 16;

fn key() -> &'static SessionIdKey {
    static KEY: OnceLock<SessionIdKey> = OnceLock::new();
    KEY.get_or_init(|| match SessionIdKey::new(SECRET) {
        Ok(k) => k,
        Err(e) => panic!("the fuzz session id key: {e}"),
    })
}

/// Input: a selector byte, then by `selector % 3`:
///
/// * 0, an id as a client sends it: if it opens, sealing what it stands for gives the very same
///   id (ids are canonical: one session, one id);
/// * 1, a payload the target signs correctly (so the fuzzer gets past the tag): it opens exactly
///   when the payload has the layout [`SessionIdKey::seal`] writes (version 1, five
///   length-prefixed UTF-8 fields of at most [`MAX_FIELD_LEN`] bytes, nothing after), then seals
///   back to the same id, and never opens for another user;
/// * 2, a user and five fields separated by NUL: sealing fails exactly when a field is longer than
///   [`MAX_FIELD_LEN`]; otherwise the id is URL-safe, at most [`MAX_ID_LEN`] long, opens to the
///   same session for the user (and for the user in other case, when lower-casing agrees), and
///   not for another user or with one character changed.
pub fn session_id(data: &[u8]) {
    let (selector, rest) = split_selector(data);
    match selector % 3 {
        0 => client_id(rest),
        1 => signed_payload(rest),
        _ => sealed(rest),
    }
}

fn client_id(rest: &[u8]) {
    let id = String::from_utf8_lossy(rest);
    if let Ok(session) = key().open(USER, &id) {
        assert_eq!(
            key().seal(USER, &session).as_deref(),
            Ok(&*id),
            "not canonical"
        );
    }
}

fn tag(user: &str, payload: &[u8]) -> Vec<u8> {
    let k = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
    let mut ctx = hmac::Context::with_key(&k);
    let user = user.to_lowercase();
    ctx.update(DOMAIN);
    ctx.update(&(user.len() as u64).to_be_bytes());
    ctx.update(user.as_bytes());
    ctx.update(payload);
    ctx.sign().as_ref().iter().take(TAG_LEN).copied().collect()
}

/// What `payload` stands for under the layout `seal` writes, if anything.
fn layout(payload: &[u8]) -> Option<SessionRef> {
    let (&version, mut rest) = payload.split_first()?;
    if version != 1 {
        return None;
    }
    let mut fields = Vec::with_capacity(5);
    for _ in 0..5 {
        let (&len, tail) = rest.split_first()?;
        let len = usize::from(len);
        if len > MAX_FIELD_LEN || tail.len() < len {
            return None;
        }
        let (field, tail) = tail.split_at(len);
        fields.push(String::from_utf8(field.to_vec()).ok()?);
        rest = tail;
    }
    if !rest.is_empty() {
        return None;
    }
    let mut fields = fields.into_iter();
    let mut next = || fields.next().unwrap_or_default();
    Some(SessionRef {
        farm: next(),
        in_name: next(),
        host_id_type: next(),
        host_id: next(),
        session_id: next(),
    })
}

fn signed_payload(payload: &[u8]) {
    let mut raw = payload.to_vec();
    raw.extend_from_slice(&tag(USER, payload));
    let id = URL_SAFE_NO_PAD.encode(&raw);
    let opened = key().open(USER, &id);
    let expected = if id.len() > MAX_ID_LEN {
        None
    } else {
        layout(payload)
    };
    assert_eq!(
        opened.as_ref().ok(),
        expected.as_ref(),
        "payload {payload:?} (open: {opened:?})"
    );
    if let Ok(session) = opened {
        assert_eq!(key().seal(USER, &session), Ok(id.clone()), "not canonical");
        assert_eq!(
            key().open("CORP\\bob", &id),
            Err(SessionIdError::Unknown),
            "opens for another user"
        );
    }
}

fn sealed(rest: &[u8]) {
    let mut parts = rest.split(|b| *b == 0).map(String::from_utf8_lossy);
    let user = parts.next().unwrap_or_default().into_owned();
    let mut next = || parts.next().unwrap_or_default().into_owned();
    let session = SessionRef {
        farm: next(),
        in_name: next(),
        host_id_type: next(),
        host_id: next(),
        session_id: next(),
    };
    let too_long = [
        &session.farm,
        &session.in_name,
        &session.host_id_type,
        &session.host_id,
        &session.session_id,
    ]
    .iter()
    .any(|f| f.len() > MAX_FIELD_LEN);
    let id = match key().seal(&user, &session) {
        Ok(id) => id,
        Err(e) => {
            assert!(
                too_long && e == SessionIdError::FieldTooLong,
                "seal refused {session:?}: {e}"
            );
            return;
        }
    };
    assert!(!too_long, "a field over {MAX_FIELD_LEN} bytes was sealed");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "not URL-safe: {id}"
    );
    assert!(id.len() <= MAX_ID_LEN, "{} > {MAX_ID_LEN}", id.len());
    assert_eq!(key().open(&user, &id), Ok(session.clone()), "round trip");
    let upper = user.to_uppercase();
    assert_eq!(
        key().open(&upper, &id).is_ok(),
        upper.to_lowercase() == user.to_lowercase(),
        "user in upper case"
    );
    let other = format!("{user}x");
    assert_eq!(
        key().open(&other, &id),
        Err(SessionIdError::Unknown),
        "another user"
    );
    let at = rest.len() % id.len().max(1);
    let altered: String = id
        .char_indices()
        .map(|(i, c)| match (i == at, c) {
            (false, c) => c,
            (true, 'A') => 'B',
            (true, _) => 'A',
        })
        .collect();
    assert_eq!(
        key().open(&user, &altered),
        Err(SessionIdError::Unknown),
        "one character changed at {at}"
    );
}
