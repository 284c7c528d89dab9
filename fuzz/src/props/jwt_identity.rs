//! Token → identity for farm-backed stores: JWT verification (HS256, the key of
//! `tests/fixtures/identity/hs256.secret`) and the mapping of claims to `DOMAIN\user` and SIDs.

use std::future::Future;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;
use serde_json::{json, Map, Value};
use sessiongate::identity::{
    read_secret, Identity, IdentityConfig, IdentityError, IdentitySource, JwtAlgorithm, JwtConfig,
    Verifier, MAX_TOKEN_LEN,
};

use super::split_selector;

/// One verifier configuration, and what the model needs to know of it.
struct Variant {
    verifier: Verifier,
    user_claim: &'static str,
    sids_claim: Option<&'static str>,
    domain: Option<&'static str>,
    audience: Option<&'static str>,
    issuer: Option<&'static str>,
    leeway: u64,
}

struct Setup {
    secret: Vec<u8>,
    variants: [Variant; 2],
}

/// `tests/fixtures/identity/hs256.secret`, from the main crate or from `fuzz/`.
fn secret_path() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let rel = "tests/fixtures/identity/hs256.secret";
    [here.join(rel), here.join("..").join(rel)]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{rel} not found from {}", here.display()))
}

fn variant(
    user_claim: &'static str,
    sids_claim: Option<&'static str>,
    domain: Option<&'static str>,
    audience: Option<&'static str>,
    issuer: Option<&'static str>,
    leeway: u64,
) -> Variant {
    let config = IdentityConfig {
        source: IdentitySource::Jwt(JwtConfig {
            algorithm: JwtAlgorithm::Hs256,
            key_file: secret_path(),
            audience: audience.into_iter().map(String::from).collect(),
            issuer: issuer.map(String::from),
            leeway: Duration::from_secs(leeway),
        }),
        user_claim: user_claim.into(),
        sids_claim: sids_claim.map(String::from),
        domain: domain.map(String::from),
    };
    match Verifier::new(&config) {
        Ok(verifier) => Variant {
            verifier,
            user_claim,
            sids_claim,
            domain,
            audience,
            issuer,
            leeway,
        },
        Err(e) => panic!("the fuzz verifier: {e}"),
    }
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| Setup {
        secret: match read_secret(&secret_path()) {
            Ok(s) => s,
            Err(e) => panic!("the fuzz secret: {e}"),
        },
        variants: [
            // The demo's shape: `sub`, SIDs in `sids`, a default domain, no aud/iss, no leeway.
            variant("sub", Some("sids"), Some("CORP"), None, None, 0),
            // Stricter: `upn` without a default domain, no SID claim, aud and iss, 60 s leeway.
            variant(
                "upn",
                None,
                None,
                Some("sessiongate"),
                Some("https://idp.example"),
                60,
            ),
        ],
    })
}

/// A JWT verification never waits (only introspection does); poll it once.
fn verify(v: &Variant, token: &str) -> Result<Identity, IdentityError> {
    let mut future = std::pin::pin!(v.verifier.verify(token));
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(result) => result,
        Poll::Pending => panic!("JWT verification waited"),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn sign(secret: &[u8], message: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    URL_SAFE_NO_PAD.encode(hmac::sign(&key, message.as_bytes()))
}

fn token(secret: &[u8], header: &[u8], claims: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = sign(secret, &message);
    format!("{message}.{signature}")
}

/// The token with the first character of its signature changed.
fn tampered(token: &str) -> String {
    let Some((message, signature)) = token.rsplit_once('.') else {
        return format!("{token}.");
    };
    let mut chars = signature.chars();
    let first = match chars.next() {
        Some('A') => 'B',
        _ => 'A',
    };
    format!("{message}.{first}{}", chars.as_str())
}

/// Input: a selector byte, then by `selector % 3` (`selector / 3 % 2` picks the verifier
/// configuration, `selector / 6 % 2` asks for a tampered signature):
///
/// * 0, a token as a client sends it; 1, a header and claims (JSON bytes, separated by the
///   first NUL; without NUL, the input is the claims under a plain HS256 header) that the target
///   signs with the key. For both, soundness: an identity, or `Expired`, only for a token whose
///   HS256 signature checks (recomputed here) under a header with `alg` HS256; an identity only
///   with an `exp` not past (leeway allowed), an `nbf` not to come, the configured `aud` and
///   `iss`, and exactly the identity the model below makes of the claims; `Unavailable` never; a
///   tampered signature is always `Invalid`.
/// * 2, structured claims the target builds and signs (knob bytes for `exp`, `nbf`, `aud`, `iss`
///   and the SID claim's form, then the user and the SIDs separated by NUL): the answer is
///   exactly the model's — `Expired`, `Invalid` or the identity (`Invalid` for a token over
///   [`MAX_TOKEN_LEN`], which is never looked at).
///
/// The model, written from the documentation of `identity/claims.rs`: the user claim must be a
/// string; `DOMAIN\user` is kept, `user@suffix` (suffix not empty) and `user` take the configured
/// domain; both parts non-empty, no control character, none of `"/[]:;|=,+*?<>` nor a second
/// `\`, at most 256 characters in all. The SID claim is absent, `null` or an array of at most 1024
/// strings `S-1-` followed by dash-separated decimal numbers, at most 256 bytes each.
pub fn jwt_identity(data: &[u8]) {
    let (selector, rest) = split_selector(data);
    let s = setup();
    let v = match s.variants.get(usize::from(selector / 3 % 2)) {
        Some(v) => v,
        None => return,
    };
    let tamper = selector / 6 % 2 == 1;
    match selector % 3 {
        0 => {
            if let Ok(token) = std::str::from_utf8(rest) {
                sound(s, v, token);
            }
        }
        1 => {
            let (header, claims) = match rest.iter().position(|b| *b == 0) {
                Some(at) => (
                    rest.get(..at).unwrap_or_default(),
                    rest.get(at + 1..).unwrap_or_default(),
                ),
                None => (&br#"{"alg":"HS256","typ":"JWT"}"#[..], rest),
            };
            let t = token(&s.secret, header, claims);
            if tamper {
                assert_eq!(
                    verify(v, &tampered(&t)),
                    Err(IdentityError::Invalid),
                    "tampered"
                );
            } else {
                sound(s, v, &t);
            }
        }
        _ => structured(s, v, rest, tamper),
    }
}

/// `header.claims.signature` as jsonwebtoken splits it (from the right).
fn parts(token: &str) -> Option<(&str, &str, &str)> {
    let (message, signature) = token.rsplit_once('.')?;
    let (header, claims) = message.rsplit_once('.')?;
    Some((header, claims, signature))
}

fn json_object(b64: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(b64).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A NumericDate as jsonwebtoken reads it (an unsigned integer, or a float it rounds).
fn numeric(v: Option<&Value>) -> Option<u64> {
    let v = v?;
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f.round() as u64)
    })
}

/// `value` is `wanted`, or an array holding it.
fn names(value: Option<&Value>, wanted: &str) -> bool {
    match value {
        Some(Value::String(s)) => s == wanted,
        Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(wanted)),
        _ => false,
    }
}

/// Soundness of one verification (modes 0 and 1).
fn sound(s: &Setup, v: &Variant, token: &str) {
    let before = now();
    let result = verify(v, token);
    let after = now();
    if matches!(result, Err(IdentityError::Invalid)) {
        return;
    }
    if result == Err(IdentityError::Unavailable) {
        panic!("a JWT verification answered Unavailable");
    }
    // Ok or Expired: the signature was checked.
    let Some((header, claims, signature)) = parts(token) else {
        panic!("{result:?} for a token without three parts");
    };
    let message = token
        .get(..header.len() + 1 + claims.len())
        .unwrap_or_default();
    assert_eq!(
        signature,
        sign(&s.secret, message),
        "{result:?} without a valid signature"
    );
    let alg = json_object(header).and_then(|h| h.get("alg").cloned());
    assert_eq!(alg, Some(json!("HS256")), "{result:?} under another alg");
    let Some(claims) = json_object(claims) else {
        panic!("{result:?} for claims that are not a JSON object");
    };
    let exp = numeric(claims.get("exp"));
    let Ok(identity) = result else {
        // Expired: `exp` is there and past, leeway included.
        assert!(
            exp.is_some_and(|exp| exp < after.saturating_sub(v.leeway)),
            "Expired with exp {exp:?}"
        );
        return;
    };
    assert!(
        exp.is_some_and(|exp| exp >= before.saturating_sub(v.leeway)),
        "accepted with exp {exp:?}"
    );
    if let Some(nbf) = numeric(claims.get("nbf")) {
        assert!(nbf <= after + v.leeway, "accepted before nbf {nbf}");
    }
    if let Some(aud) = v.audience {
        assert!(
            names(claims.get("aud"), aud),
            "accepted for aud {:?}",
            claims.get("aud")
        );
    }
    if let Some(iss) = v.issuer {
        assert!(
            names(claims.get("iss"), iss),
            "accepted for iss {:?}",
            claims.get("iss")
        );
    }
    assert_eq!(
        Ok(&identity),
        model(v, &claims).as_ref(),
        "identity of {claims:?}"
    );
}

/// Mode 2: claims built from knobs, the answer predicted exactly. Times are at least 30 s away
/// from any boundary, so the verifier's own clock reading cannot change the answer.
fn structured(s: &Setup, v: &Variant, rest: &[u8], tamper: bool) {
    let (times, rest) = split_selector(rest);
    let (form, rest) = split_selector(rest);
    let mut fields = rest
        .split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned());
    let user = fields.next().unwrap_or_default();
    let sids: Vec<String> = fields.collect();
    let now = now();
    let mut claims = Map::new();
    claims.insert(v.user_claim.into(), json!(user));
    let exp = match times & 3 {
        0 => Some(now - 3600),
        1 => Some(now - 30),
        2 => Some(now + 3600),
        _ => None,
    };
    let nbf = match (times >> 2) & 3 {
        0 => None,
        1 => Some(now - 3600),
        2 => Some(now + 30),
        _ => Some(now + 3600),
    };
    for (name, value) in [("exp", exp), ("nbf", nbf)] {
        if let Some(t) = value {
            claims.insert(name.into(), json!(t));
        }
    }
    let aud = (times & 0x10 != 0).then_some(if times & 0x20 == 0 {
        "sessiongate"
    } else {
        "other"
    });
    let iss = (times & 0x40 != 0).then_some(if times & 0x80 == 0 {
        "https://idp.example"
    } else {
        "https://evil.example"
    });
    if let Some(a) = aud {
        claims.insert("aud".into(), json!(a));
    }
    if let Some(i) = iss {
        claims.insert("iss".into(), json!(i));
    }
    let sid_value = match form % 5 {
        0 => None,
        1 => Some(Value::Null),
        2 => Some(json!(sids)),
        3 => Some(json!(sids.join(","))),
        _ => Some(json!([sids, 1])),
    };
    if let Some(value) = sid_value {
        // The claim the variant reads, or an unused one when it reads none.
        claims.insert(v.sids_claim.unwrap_or("sids").into(), value);
    }
    let body = Value::Object(claims.clone()).to_string();
    let t = token(
        &s.secret,
        br#"{"alg":"HS256","typ":"JWT"}"#,
        body.as_bytes(),
    );
    if tamper {
        assert_eq!(
            verify(v, &tampered(&t)),
            Err(IdentityError::Invalid),
            "tampered"
        );
        return;
    }
    // Too long to look at; then jsonwebtoken's order: required claims, exp, nbf, iss, aud;
    // then the mapping.
    let expected = if t.len() > MAX_TOKEN_LEN
        || exp.is_none()
        || (v.audience.is_some() && aud.is_none())
        || (v.issuer.is_some() && iss.is_none())
    {
        Err(IdentityError::Invalid)
    } else if exp.is_some_and(|e| e < now - v.leeway) {
        Err(IdentityError::Expired)
    } else if nbf.is_some_and(|n| n > now + v.leeway)
        || v.issuer.is_some_and(|i| iss != Some(i))
        || v.audience.is_some_and(|a| aud != Some(a))
    {
        Err(IdentityError::Invalid)
    } else {
        model(v, &claims)
    };
    assert_eq!(verify(v, &t), expected, "claims {body}");
}

/// The identity the documentation promises for verified claims.
fn model(v: &Variant, claims: &Map<String, Value>) -> Result<Identity, IdentityError> {
    let name = claims
        .get(v.user_claim)
        .and_then(Value::as_str)
        .ok_or(IdentityError::Invalid)?;
    let sam = sam(name, v.domain).ok_or(IdentityError::Invalid)?;
    let sids = match v.sids_claim.and_then(|c| claims.get(c)) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if items.len() <= 1024 => items
            .iter()
            .map(|i| match i.as_str() {
                Some(s) if is_sid(s) => Ok(s.to_owned()),
                _ => Err(IdentityError::Invalid),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(IdentityError::Invalid),
    };
    Ok(Identity { sam, sids })
}

fn sam(name: &str, domain: Option<&str>) -> Option<String> {
    const FORBIDDEN: &str = "\"/[]:;|=,+*?<>\\";
    let plain =
        |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_control() || FORBIDDEN.contains(c));
    if name.chars().count() > 256 {
        return None;
    }
    let (dom, user) = match name.split_once('\\') {
        Some(pair) => pair,
        None => match name.split_once('@') {
            Some((_, "")) => return None,
            Some((user, _)) => (domain?, user),
            None => (domain?, name),
        },
    };
    (plain(dom) && plain(user)).then(|| format!("{dom}\\{user}"))
}

fn is_sid(s: &str) -> bool {
    s.len() <= 256
        && s.strip_prefix("S-1-").is_some_and(|rest| {
            rest.split('-')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
}
