//! JWT verification and user mapping against the keys of `tests/fixtures/identity/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/identity")
        .join(name)
}

fn config(algorithm: JwtAlgorithm, key: &str) -> IdentityConfig {
    IdentityConfig {
        source: IdentitySource::Jwt(JwtConfig {
            algorithm,
            key_file: fixture(key),
            audience: vec![],
            issuer: None,
            leeway: Duration::ZERO,
        }),
        user_claim: "sub".into(),
        sids_claim: Some("sids".into()),
        domain: Some("CORP".into()),
    }
}

fn with_jwt(mut c: IdentityConfig, f: impl FnOnce(&mut JwtConfig)) -> IdentityConfig {
    if let IdentitySource::Jwt(j) = &mut c.source {
        f(j);
    }
    c
}

fn now() -> i64 {
    unix_now() as i64
}

fn claims(extra: Value) -> Value {
    let mut c = json!({"sub": "CORP\\alice", "iat": now(), "exp": now() + 600});
    if let (Some(c), Value::Object(extra)) = (c.as_object_mut(), extra) {
        c.extend(extra);
    }
    c
}

fn secret() -> Vec<u8> {
    read_secret(&fixture("hs256.secret")).unwrap()
}

fn hs(claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(&secret()),
    )
    .unwrap()
}

fn rs(claims: &Value) -> String {
    let pem = std::fs::read(fixture("rs256-private.pem")).unwrap();
    encode(
        &Header::new(Algorithm::RS256),
        claims,
        &EncodingKey::from_rsa_pem(&pem).unwrap(),
    )
    .unwrap()
}

fn es(claims: &Value) -> String {
    let pem = std::fs::read(fixture("es256-private.pem")).unwrap();
    encode(
        &Header::new(Algorithm::ES256),
        claims,
        &EncodingKey::from_ec_pem(&pem).unwrap(),
    )
    .unwrap()
}

fn verify(config: &IdentityConfig, token: &str) -> Result<Identity, IdentityError> {
    let v = Verifier::new(config).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(v.verify(token))
}

fn alice(sids: &[&str]) -> Identity {
    Identity {
        sam: "CORP\\alice".into(),
        sids: sids.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn good_tokens_of_each_algorithm() {
    let c = claims(json!({"sids": ["S-1-5-21-1-2-3-513"]}));
    let want = Ok(alice(&["S-1-5-21-1-2-3-513"]));
    assert_eq!(
        verify(&config(JwtAlgorithm::Hs256, "hs256.secret"), &hs(&c)),
        want
    );
    assert_eq!(
        verify(&config(JwtAlgorithm::Rs256, "rs256-public.pem"), &rs(&c)),
        want
    );
    assert_eq!(
        verify(&config(JwtAlgorithm::Es256, "es256-public.pem"), &es(&c)),
        want
    );
}

#[test]
fn expired_and_not_yet_valid() {
    let cfg = config(JwtAlgorithm::Hs256, "hs256.secret");
    let expired = claims(json!({"exp": now() - 30}));
    assert_eq!(verify(&cfg, &hs(&expired)), Err(IdentityError::Expired));
    let future = claims(json!({"nbf": now() + 300}));
    assert_eq!(verify(&cfg, &hs(&future)), Err(IdentityError::Invalid));
    let no_exp = json!({"sub": "CORP\\alice"});
    assert_eq!(verify(&cfg, &hs(&no_exp)), Err(IdentityError::Invalid));
    // The leeway covers a little clock skew, both ways.
    let lenient = with_jwt(cfg, |j| j.leeway = Duration::from_secs(60));
    assert!(verify(&lenient, &hs(&expired)).is_ok());
    let soon = claims(json!({"nbf": now() + 30}));
    assert!(verify(&lenient, &hs(&soon)).is_ok());
}

#[test]
fn wrong_keys_are_refused() {
    let c = claims(json!({}));
    let other = EncodingKey::from_secret(b"another secret of at least thirty-two bytes");
    let forged = encode(&Header::new(Algorithm::HS256), &c, &other).unwrap();
    assert_eq!(
        verify(&config(JwtAlgorithm::Hs256, "hs256.secret"), &forged),
        Err(IdentityError::Invalid)
    );
    // An ES256 token to an RS256 verifier, and the reverse.
    assert_eq!(
        verify(&config(JwtAlgorithm::Rs256, "rs256-public.pem"), &es(&c)),
        Err(IdentityError::Invalid)
    );
    assert_eq!(
        verify(&config(JwtAlgorithm::Es256, "es256-public.pem"), &rs(&c)),
        Err(IdentityError::Invalid)
    );
    // A tampered payload.
    let good = hs(&c);
    let parts: Vec<&str> = good.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let evil = b64.encode(claims(json!({"sub": "CORP\\admin"})).to_string());
    let tampered = format!("{}.{}.{}", parts[0], evil, parts[2]);
    assert_eq!(
        verify(&config(JwtAlgorithm::Hs256, "hs256.secret"), &tampered),
        Err(IdentityError::Invalid)
    );
}

#[test]
fn audience_and_issuer() {
    let cfg = with_jwt(config(JwtAlgorithm::Hs256, "hs256.secret"), |j| {
        j.audience = vec!["sessiongate".into(), "other".into()];
        j.issuer = Some("https://idp.example".into());
    });
    let good = claims(json!({"aud": "sessiongate", "iss": "https://idp.example"}));
    assert_eq!(verify(&cfg, &hs(&good)), Ok(alice(&[])));
    let list = claims(json!({"aud": ["x", "other"], "iss": "https://idp.example"}));
    assert!(verify(&cfg, &hs(&list)).is_ok());
    let wrong_aud = claims(json!({"aud": "someone-else", "iss": "https://idp.example"}));
    assert_eq!(verify(&cfg, &hs(&wrong_aud)), Err(IdentityError::Invalid));
    let no_aud = claims(json!({"iss": "https://idp.example"}));
    assert_eq!(verify(&cfg, &hs(&no_aud)), Err(IdentityError::Invalid));
    let wrong_iss = claims(json!({"aud": "sessiongate", "iss": "https://evil.example"}));
    assert_eq!(verify(&cfg, &hs(&wrong_iss)), Err(IdentityError::Invalid));
    let no_iss = claims(json!({"aud": "sessiongate"}));
    assert_eq!(verify(&cfg, &hs(&no_iss)), Err(IdentityError::Invalid));
    // Without a configured audience, `aud` is not looked at.
    let open = config(JwtAlgorithm::Hs256, "hs256.secret");
    assert!(verify(&open, &hs(&wrong_aud)).is_ok());
}

#[test]
fn none_algorithm_is_refused() {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64.encode(claims(json!({})).to_string());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
        format!("{header}.{payload}.AAAA"),
    ] {
        for (alg, key) in [
            (JwtAlgorithm::Hs256, "hs256.secret"),
            (JwtAlgorithm::Rs256, "rs256-public.pem"),
            (JwtAlgorithm::Es256, "es256-public.pem"),
        ] {
            assert_eq!(
                verify(&config(alg, key), &token),
                Err(IdentityError::Invalid)
            );
        }
    }
}

#[test]
fn hs256_signed_with_the_rsa_public_key_is_refused() {
    let public = std::fs::read(fixture("rs256-public.pem")).unwrap();
    let c = claims(json!({}));
    let token = encode(
        &Header::new(Algorithm::HS256),
        &c,
        &EncodingKey::from_secret(&public),
    )
    .unwrap();
    assert_eq!(
        verify(&config(JwtAlgorithm::Rs256, "rs256-public.pem"), &token),
        Err(IdentityError::Invalid)
    );
    // An RS256 token to an HS256 verifier too.
    assert_eq!(
        verify(&config(JwtAlgorithm::Hs256, "hs256.secret"), &rs(&c)),
        Err(IdentityError::Invalid)
    );
}

#[test]
fn garbage_and_oversized_tokens() {
    let cfg = config(JwtAlgorithm::Hs256, "hs256.secret");
    for t in ["", "abc", "a.b.c", "....", "\u{0}"] {
        assert_eq!(verify(&cfg, t), Err(IdentityError::Invalid), "{t:?}");
    }
    // A valid signature does not save a token over the size bound.
    let big = claims(json!({"pad": "x".repeat(MAX_TOKEN_LEN)}));
    assert_eq!(verify(&cfg, &hs(&big)), Err(IdentityError::Invalid));
}

#[test]
fn user_names() {
    let d = Some("CORP");
    assert_eq!(
        map_user("CORP\\alice", None).as_deref(),
        Some("CORP\\alice")
    );
    assert_eq!(map_user("OTHER\\bob", d).as_deref(), Some("OTHER\\bob"));
    assert_eq!(
        map_user("alice@corp.example", d).as_deref(),
        Some("CORP\\alice")
    );
    assert_eq!(map_user("alice", d).as_deref(), Some("CORP\\alice"));
    assert_eq!(map_user("alice", None), None);
    assert_eq!(map_user("alice@corp.example", None), None);
    assert_eq!(map_user("", d), None);
    assert_eq!(map_user("alice@", d), None);
    assert_eq!(map_user("@corp.example", d), None);
    assert_eq!(map_user("\\alice", d), None);
    assert_eq!(map_user("CORP\\", d), None);
    assert_eq!(map_user("CORP\\a\\b", d), None);
    assert_eq!(map_user("ali\u{7}ce", d), None);
    assert_eq!(map_user("alice\n", d), None);
    for c in "\"/[]:;|=,+*?<>".chars() {
        assert_eq!(map_user(&format!("CORP\\al{c}ice"), d), None, "{c}");
        assert_eq!(map_user(&format!("al{c}ice"), d), None, "{c}");
    }
    assert_eq!(
        map_user(&"a".repeat(256), d),
        Some(format!("CORP\\{}", "a".repeat(256)))
    );
    assert_eq!(map_user(&"a".repeat(257), d), None);
    // A configured domain with a forbidden character makes no name.
    assert_eq!(map_user("alice", Some("CO:RP")), None);
    // Through a token: another claim, and a claim that is not a string.
    let cfg = IdentityConfig {
        user_claim: "upn".into(),
        ..config(JwtAlgorithm::Hs256, "hs256.secret")
    };
    let c = claims(json!({"upn": "alice@corp.example"}));
    assert_eq!(verify(&cfg, &hs(&c)), Ok(alice(&[])));
    let c = claims(json!({"upn": ["alice"]}));
    assert_eq!(verify(&cfg, &hs(&c)), Err(IdentityError::Invalid));
    let c = claims(json!({}));
    assert_eq!(verify(&cfg, &hs(&c)), Err(IdentityError::Invalid));
}

#[test]
fn sids() {
    assert!(check_sid("S-1-5-32-544"));
    assert!(check_sid("S-1-5-21-3623811015-3361044348-30300820-1013"));
    for bad in [
        "", "S-1-", "S-1-5-", "S-1--5", "S-2-5", "s-1-5", "S-1-5-x", "S-1-5 ",
    ] {
        assert!(!check_sid(bad), "{bad}");
    }
    let cfg = config(JwtAlgorithm::Hs256, "hs256.secret");
    let two = claims(json!({"sids": ["S-1-5-32-544", "S-1-5-11"]}));
    assert_eq!(
        verify(&cfg, &hs(&two)),
        Ok(alice(&["S-1-5-32-544", "S-1-5-11"]))
    );
    for bad in [
        json!(["S-1-5", "admins"]),
        json!("S-1-5-11"),
        json!([1]),
        json!({}),
    ] {
        let c = claims(json!({ "sids": bad }));
        assert_eq!(verify(&cfg, &hs(&c)), Err(IdentityError::Invalid), "{bad}");
    }
    // 1024 SIDs do not fit in a token under the size bound: check the claim rule directly.
    let mapping = claims::Mapping::new(&cfg);
    let mut map = serde_json::Map::new();
    map.insert("sub".into(), "CORP\\alice".into());
    let max: Vec<String> = (0..1024).map(|i| format!("S-1-5-{i}")).collect();
    map.insert("sids".into(), json!(max));
    assert_eq!(mapping.identity(&map).unwrap().sids.len(), 1024);
    let over: Vec<String> = (0..1025).map(|i| format!("S-1-5-{i}")).collect();
    map.insert("sids".into(), json!(over));
    assert_eq!(mapping.identity(&map), Err(IdentityError::Invalid));
    // Without a configured SID claim, one in the token is ignored.
    let no_sids = IdentityConfig {
        sids_claim: None,
        ..cfg
    };
    assert_eq!(verify(&no_sids, &hs(&two)), Ok(alice(&[])));
}

#[test]
fn setup_errors_name_the_file_not_its_content() {
    let short = config(JwtAlgorithm::Hs256, "hs256-short.secret");
    let e = Verifier::new(&short).unwrap_err().to_string();
    assert!(e.contains("hs256-short.secret"), "{e}");
    let content = std::fs::read_to_string(fixture("hs256-short.secret")).unwrap();
    assert!(!e.contains(content.trim()), "{e}");
    let missing = config(JwtAlgorithm::Rs256, "no-such-file.pem");
    assert!(Verifier::new(&missing)
        .unwrap_err()
        .to_string()
        .contains("no-such-file.pem"));
    // A secret is not a PEM key; an EC key is not an RSA key; a private key is refused.
    assert!(matches!(
        Verifier::new(&config(JwtAlgorithm::Rs256, "hs256.secret")),
        Err(SetupError::BadKey { .. })
    ));
    assert!(matches!(
        Verifier::new(&config(JwtAlgorithm::Rs256, "es256-public.pem")),
        Err(SetupError::BadKey { .. })
    ));
    assert!(matches!(
        Verifier::new(&config(JwtAlgorithm::Es256, "es256-private.pem")),
        Err(SetupError::PrivateKey { .. })
    ));
    let huge_leeway = with_jwt(config(JwtAlgorithm::Hs256, "hs256.secret"), |j| {
        j.leeway = Duration::from_secs(u64::MAX)
    });
    assert!(matches!(
        Verifier::new(&huge_leeway),
        Err(SetupError::Leeway)
    ));
}

#[test]
fn secrets_and_minting() {
    let s = secret();
    assert_eq!(s.len(), 64, "the trailing newline is trimmed");
    assert!(matches!(
        read_secret(&fixture("hs256-short.secret")),
        Err(SetupError::ShortSecretFile { .. })
    ));
    let sids = vec!["S-1-5-11".to_string()];
    let token = mint_hs256(
        &s,
        "CORP\\alice",
        Some("sessiongate"),
        Duration::from_secs(60),
        &sids,
    )
    .unwrap();
    let cfg = with_jwt(config(JwtAlgorithm::Hs256, "hs256.secret"), |j| {
        j.audience = vec!["sessiongate".into()]
    });
    assert_eq!(verify(&cfg, &token), Ok(alice(&["S-1-5-11"])));
    let dead = mint_hs256(&s, "CORP\\alice", None, Duration::ZERO, &[]).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let open = config(JwtAlgorithm::Hs256, "hs256.secret");
    assert_eq!(verify(&open, &dead), Err(IdentityError::Expired));
    assert!(matches!(
        mint_hs256(b"short", "CORP\\alice", None, Duration::from_secs(1), &[]),
        Err(SetupError::ShortSecret)
    ));
}

#[test]
fn error_labels() {
    assert_eq!(IdentityError::Invalid.challenge_reason(), "invalidtoken");
    assert_eq!(IdentityError::Expired.challenge_reason(), "expired");
    assert_eq!(IdentityError::Unavailable.challenge_reason(), "");
    assert_eq!(IdentityError::Invalid.label(), "invalid");
    assert_eq!(IdentityError::Expired.label(), "expired");
    assert_eq!(IdentityError::Unavailable.label(), "unavailable");
}
