//! The forced-pool rule, cookies, and the share's life cycle.

use std::time::{Duration, Instant};

use super::*;
use crate::config::Cidr;
use crate::routing::canary::{Counts, GuardSettings, RollbackCause};

fn rollout(share: f64) -> Rollout {
    let force = Force {
        header: Some("x-sessiongate-pool".into()),
        cookie: Some("sessiongate_pool".into()),
        trusted: vec![Cidr::parse("10.1.0.0/16").unwrap()],
    };
    let guard = Guard::new(GuardSettings {
        window: Duration::from_secs(60),
        buckets: 6,
        significance: 0.001,
        min_canary_requests: 10,
        latency_p99_margin: None,
    });
    Rollout::new(
        Share::from_percent(share).unwrap(),
        Some(force),
        TagKey::new(&[7; 32]).unwrap(),
        Some(guard),
    )
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    h
}

#[test]
fn forcing_is_honoured_from_trusted_networks_only() {
    let r = rollout(5.0);
    let trusted = Some("10.1.2.3".parse().unwrap());
    let outside = Some("192.0.2.1".parse().unwrap());
    let h = headers(&[("X-Sessiongate-Pool", "canary")]);
    assert_eq!(
        r.forced(&h, trusted),
        Some(Forced::Honoured(PoolName::Canary))
    );
    assert_eq!(r.forced(&h, outside), Some(Forced::Untrusted));
    assert_eq!(r.forced(&h, None), Some(Forced::Untrusted));
    let c = headers(&[("cookie", "a=b; sessiongate_pool=stable")]);
    assert_eq!(
        r.forced(&c, trusted),
        Some(Forced::Honoured(PoolName::Stable))
    );
    let bad = headers(&[("X-Sessiongate-Pool", "blue")]);
    assert_eq!(r.forced(&bad, trusted), Some(Forced::Invalid));
    assert_eq!(r.forced(&headers(&[]), trusted), None);
}

#[test]
fn cookies_are_found_and_removed() {
    let h = headers(&[("cookie", "x=1; sg=abc ;y=2"), ("cookie", "sg=later")]);
    assert_eq!(cookie(&h, "sg"), Some("abc"));
    assert_eq!(cookie(&h, "z"), None);
    assert_eq!(
        without_cookie("x=1; sg=abc; y=2", "sg").as_deref(),
        Some("x=1; y=2")
    );
    assert_eq!(without_cookie("sg=abc", "sg"), None);
    assert_eq!(cookie(&headers(&[("cookie", "garbage;;=;")]), "sg"), None);
}

#[test]
fn rollback_holds_until_an_operator_sets_the_share() {
    let r = rollout(5.0);
    assert_eq!(r.state(), RolloutState::Active);
    let evidence = Evidence {
        cause: RollbackCause::Errors,
        stable: Counts {
            requests: 100,
            failures: 1,
        },
        canary: Counts {
            requests: 100,
            failures: 50,
        },
        stable_rate: 0.01,
        canary_rate: 0.5,
        z: 8.0,
        p_value: 1e-9,
    };
    assert!(r.roll_back(evidence.clone()));
    assert!(!r.roll_back(evidence), "counted once");
    assert_eq!(r.share(), Share::ZERO);
    assert_eq!(r.state(), RolloutState::RolledBack);
    assert!(r.last_rollback().is_some());
    r.set_share(Share::from_percent(1.0).unwrap());
    assert_eq!(r.state(), RolloutState::Active);
    r.set_share(Share::ZERO);
    assert_eq!(r.state(), RolloutState::Off);
}

#[test]
fn record_tests_once_per_bucket_and_rolls_back_once() {
    let r = rollout(50.0);
    let t0 = Instant::now();
    let ms = Duration::from_millis;
    // Bucket 0: a failing canary, but no test runs inside the first bucket.
    for i in 0..100 {
        assert!(r.record(PoolName::Stable, false, ms(1), t0).is_none());
        assert!(r.record(PoolName::Canary, i % 2 == 0, ms(1), t0).is_none());
    }
    assert_eq!(r.state(), RolloutState::Active);
    let (stable, canary) = r.window(t0);
    assert_eq!(
        (stable.requests, canary.requests, canary.failures),
        (100, 100, 50)
    );
    // The first request of the next bucket runs the test, once.
    let t1 = t0 + Duration::from_secs(10);
    let evidence = r
        .record(PoolName::Stable, false, ms(1), t1)
        .expect("rolled back");
    assert_eq!(evidence.canary.failures, 50);
    assert_eq!(r.state(), RolloutState::RolledBack);
    assert_eq!(r.share(), Share::ZERO);
    let t2 = t0 + Duration::from_secs(20);
    assert!(r.record(PoolName::Canary, true, ms(1), t2).is_none());
    // An operator resumes: a fresh window, nothing to hold against the canary.
    r.set_share(Share::from_percent(5.0).unwrap());
    assert_eq!(r.window(t2), (Counts::default(), Counts::default()));
}

#[test]
fn launch_urls_lead_back_to_their_pool_and_tampering_is_refused() {
    let config = crate::config::from_yaml(
        r#"
stores:
  - path: /Citrix/Store
    public_url: https://workspace.example.com/Citrix/Store
    storefront: {upstreams: ["127.0.0.1:81"], upstream_path: /Citrix/Store}
"#,
        "t",
    )
    .unwrap();
    let store = &config.stores[0];
    let r = rollout(5.0);
    let url = r.launch_url(store, "abc-1", PoolName::Canary);
    let (base, query) = url.split_once('?').unwrap();
    assert_eq!(base, store.launch_url("abc-1"));
    assert_eq!(
        r.launch_pool(store, "abc-1", Some(query)),
        Ok(Some(PoolName::Canary))
    );
    assert_eq!(r.launch_pool(store, "abc-1", None), Ok(None));
    assert_eq!(r.launch_pool(store, "abc-1", Some("x=1")), Ok(None));
    assert_eq!(r.launch_pool(store, "abc-2", Some(query)), Err(BadTag));
    let flipped = query.replacen("pool_tag=c.", "pool_tag=s.", 1);
    assert_eq!(r.launch_pool(store, "abc-1", Some(&flipped)), Err(BadTag));
    let twice = format!("{query}&{query}");
    assert_eq!(r.launch_pool(store, "abc-1", Some(&twice)), Err(BadTag));
    assert_eq!(
        r.launch_pool(store, "abc-1", Some("pool_tag=")),
        Err(BadTag)
    );
}
