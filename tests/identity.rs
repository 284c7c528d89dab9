//! The identity module through real sockets: token introspection against the small HTTP/1.1
//! endpoint of `common::introspection`, and the `sessiongate token` subcommand checked by a
//! [`Verifier`].
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::introspection::Introspection;
use common::{free_addr, unix_now};

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use sessiongate::identity::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/identity")
        .join(name)
}

fn config(url: String, f: impl FnOnce(&mut IntrospectionConfig)) -> IdentityConfig {
    let mut i = IntrospectionConfig {
        url,
        client_id: None,
        client_secret_file: None,
        ca_file: None,
        timeout: Duration::from_millis(500),
        cache_ttl: Duration::from_secs(60),
        cache_entries: 100,
        audience: vec!["sessiongate".into()],
    };
    f(&mut i);
    IdentityConfig {
        source: IdentitySource::Introspection(i),
        user_claim: "username".into(),
        sids_claim: Some("groups".into()),
        domain: Some("CORP".into()),
    }
}

fn alice() -> Identity {
    Identity {
        sam: "CORP\\alice".into(),
        sids: vec!["S-1-5-32-544".into()],
    }
}

/// Wait until the unix clock is past `exp`, the second a token expires: the cache and the server
/// judge `exp` by that clock, so this wait is for time itself, checked against the clock.
async fn clock_past(exp: u64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while unix_now() <= exp {
        assert!(Instant::now() < deadline, "the clock did not pass {exp}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_tokens_are_cached_and_the_request_is_well_formed() {
    let server = Introspection::start();
    let v = Verifier::new(&config(server.url(), |_| {})).unwrap();
    assert_eq!(v.verify("good-1").await, Ok(alice()));
    assert_eq!(server.count(), 1);
    let seen = server.last();
    let head = seen.head.to_ascii_lowercase();
    assert!(
        head.starts_with("post /oauth2/introspect http/1.1\r\n"),
        "{head}"
    );
    assert!(head.contains("content-type: application/x-www-form-urlencoded\r\n"));
    assert!(head.contains("accept: application/json\r\n"));
    assert!(!head.contains("authorization:"));
    assert_eq!(seen.body, "token=good-1&token_type_hint=access_token");
    // The second time comes from the cache.
    assert_eq!(v.verify("good-1").await, Ok(alice()));
    assert_eq!(server.count(), 1);
    assert_eq!(v.verify("good-2").await, Ok(alice()));
    assert_eq!(server.count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inactive_expired_and_wrong_audience() {
    let server = Introspection::start();
    let v = Verifier::new(&config(server.url(), |_| {})).unwrap();
    for (token, want) in [
        ("inactive", IdentityError::Invalid),
        ("expired", IdentityError::Expired),
        ("wrongaud", IdentityError::Invalid),
        ("inactive", IdentityError::Invalid),
    ] {
        assert_eq!(v.verify(token).await, Err(want), "{token}");
    }
    // Refusals are not cached: each one asked the server, "inactive" twice.
    assert_eq!(server.count(), 4);
    // Without a configured audience the `aud` of the answer is not looked at.
    let open = Verifier::new(&config(server.url(), |i| i.audience.clear())).unwrap();
    assert_eq!(open.verify("wrongaud").await, Ok(alice()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_is_bounded_and_oldest_goes_first() {
    let server = Introspection::start();
    let v = Verifier::new(&config(server.url(), |i| i.cache_entries = 2)).unwrap();
    for t in ["good-1", "good-2", "good-3"] {
        assert_eq!(v.verify(t).await, Ok(alice()));
    }
    assert_eq!(server.count(), 3);
    // good-2 and good-3 are cached; good-1, the oldest, was evicted.
    assert!(v.verify("good-3").await.is_ok());
    assert!(v.verify("good-2").await.is_ok());
    assert_eq!(server.count(), 3);
    assert!(v.verify("good-1").await.is_ok());
    assert_eq!(server.count(), 4);
    // No cache at all.
    let none = Verifier::new(&config(server.url(), |i| i.cache_entries = 0)).unwrap();
    assert!(none.verify("good-9").await.is_ok());
    assert!(none.verify("good-9").await.is_ok());
    assert_eq!(server.count(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_answers_end_at_exp_and_at_the_ttl() {
    let server = Introspection::start();
    let v = Verifier::new(&config(server.url(), |_| {})).unwrap();
    let exp = unix_now() + 1;
    let token = format!("short-{exp}");
    assert_eq!(v.verify(&token).await, Ok(alice()));
    assert!(v.verify(&token).await.is_ok());
    assert_eq!(server.count(), 1);
    clock_past(exp).await;
    // The cached answer ended with the token; asked again, the server's exp is past.
    assert_eq!(v.verify(&token).await, Err(IdentityError::Expired));
    assert_eq!(server.count(), 2);

    let ttl = Duration::from_millis(300);
    let v = Verifier::new(&config(server.url(), |i| i.cache_ttl = ttl)).unwrap();
    let cached_at = Instant::now();
    assert!(v.verify("good-1").await.is_ok());
    assert!(v.verify("good-1").await.is_ok());
    assert_eq!(server.count(), 3);
    // Ask until the server is asked again: not before the TTL has run out, and soon after.
    let deadline = cached_at + Duration::from_secs(5);
    while server.count() == 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(v.verify("good-1").await.is_ok());
    }
    assert_eq!(server.count(), 4);
    assert!(cached_at.elapsed() >= ttl, "{:?}", cached_at.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_is_unavailable_within_the_timeout() {
    let server = Introspection::start();
    let v = Verifier::new(&config(server.url(), |i| {
        i.timeout = Duration::from_millis(300)
    }))
    .unwrap();
    let started = Instant::now();
    assert_eq!(v.verify("slow").await, Err(IdentityError::Unavailable));
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_errors_and_refused_connections_are_unavailable_and_not_cached() {
    let server = Introspection::start();
    let v = Verifier::new(&config(server.url(), |_| {})).unwrap();
    for token in ["garbage", "garbage", "error"] {
        assert_eq!(
            v.verify(token).await,
            Err(IdentityError::Unavailable),
            "{token}"
        );
    }
    // Not cached: "garbage" was asked twice.
    assert_eq!(server.count(), 3);

    // A port nobody listens on.
    let url = format!("http://{}/introspect", free_addr());
    let v = Verifier::new(&config(url, |_| {})).unwrap();
    let started = Instant::now();
    assert_eq!(v.verify("good-1").await, Err(IdentityError::Unavailable));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_is_sent_when_configured() {
    let server = Introspection::start();
    let v = Verifier::new(&config(server.url(), |i| {
        i.client_id = Some("sessiongate".into());
        i.client_secret_file = Some(fixture("client.secret"));
    }))
    .unwrap();
    assert_eq!(v.verify("good-1").await, Ok(alice()));
    let secret = std::fs::read_to_string(fixture("client.secret")).unwrap();
    let want = base64::engine::general_purpose::STANDARD
        .encode(format!("sessiongate:{}", secret.trim_end()));
    let head = server.last().head;
    assert!(
        head.lines()
            .any(|l| l.eq_ignore_ascii_case(&format!("authorization: Basic {want}"))),
        "{head}"
    );
    // A missing secret file is a setup error naming the file.
    let e = Verifier::new(&config(server.url(), |i| {
        i.client_id = Some("sessiongate".into());
        i.client_secret_file = Some(fixture("missing.secret"));
    }))
    .unwrap_err();
    assert!(e.to_string().contains("missing.secret"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_subcommand_output_verifies() {
    let out = Command::new(env!("CARGO_BIN_EXE_sessiongate"))
        .arg("token")
        .arg("--key")
        .arg(fixture("hs256.secret"))
        .args(["--user", "CORP\\alice", "--audience", "sessiongate"])
        .args(["--ttl", "120", "--sid", "S-1-5-11", "--sid", "S-1-5-32-545"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.ends_with('\n') && stdout.lines().count() == 1,
        "{stdout:?}"
    );
    let token = stdout.trim_end();
    let config = IdentityConfig {
        source: IdentitySource::Jwt(JwtConfig {
            algorithm: JwtAlgorithm::Hs256,
            key_file: fixture("hs256.secret"),
            audience: vec!["sessiongate".into()],
            issuer: None,
            leeway: Duration::ZERO,
        }),
        user_claim: "sub".into(),
        sids_claim: Some("sids".into()),
        domain: None,
    };
    let v = Verifier::new(&config).unwrap();
    assert_eq!(
        v.verify(token).await,
        Ok(Identity {
            sam: "CORP\\alice".into(),
            sids: vec!["S-1-5-11".into(), "S-1-5-32-545".into()],
        })
    );

    for (key, want) in [
        ("hs256-short.secret", "at least 32 bytes"),
        ("missing.secret", "missing.secret"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_sessiongate"))
            .arg("token")
            .arg("--key")
            .arg(fixture(key))
            .args(["--user", "CORP\\alice"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(want), "{stderr}");
    }
}
