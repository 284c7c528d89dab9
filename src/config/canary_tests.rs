//! The canary keys: weighted servers, HTTP health checks, share, forced pool, guard, admin token.

use std::time::Duration;

use super::*;

const BASE: &str = r#"
stores:
  - path: /Citrix/Store
    public_url: https://workspace.example.com/Citrix/Store
    storefront:
      upstream_path: /Citrix/Store
"#;

fn with(storefront_tail: &str) -> String {
    format!("{BASE}{storefront_tail}")
}

fn storefront(text: &str) -> StoreFront {
    let c = from_yaml(text, "t").unwrap_or_else(|e| panic!("{e}"));
    match &c.stores[0].backend {
        Backend::StoreFront(sf) => sf.clone(),
        Backend::Farms(_) => panic!("a StoreFront store"),
    }
}

fn keys(text: &str) -> Vec<String> {
    match from_yaml(text, "t") {
        Err(ConfigError::Invalid { issues, .. }) => {
            assert!(issues.iter().all(|i| !i.fix.is_empty()));
            issues.into_iter().map(|i| i.key).collect()
        }
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn plain_and_weighted_upstreams_mix() {
    let sf = storefront(&with(
        "      upstreams: [\"10.0.0.11:80\", {addr: \"10.0.0.12:80\", weight: 3}, {addr: \"10.0.0.13:80\"}]\n",
    ));
    assert_eq!(
        sf.upstreams,
        ["10.0.0.11:80", "10.0.0.12:80", "10.0.0.13:80"]
    );
    assert_eq!(sf.weights, [1, 3, 1]);
    assert!(sf.health_check.is_none() && sf.canary.is_none());
    assert!(sf.health_check_interval.is_some());
}

#[test]
fn http_health_check_gets_defaults() {
    let sf = storefront(&with(
        "      upstreams: [\"10.0.0.11:80\"]\n      health_check: {path: /Citrix/Store/discovery}\n",
    ));
    let h = sf.health_check.unwrap();
    assert_eq!(h.path, "/Citrix/Store/discovery");
    assert_eq!(h.status, 200);
    assert_eq!(h.interval, Duration::from_secs(5));
    assert_eq!(h.timeout, Duration::from_secs(2));
    assert_eq!((h.failures, h.successes), (3, 2));
}

const CANARY: &str = r#"      upstreams: ["10.0.0.11:80"]
      health_check: {path: /Citrix/Store/discovery, interval_ms: 1000, timeout_ms: 500}
      canary:
        upstreams: [{addr: "10.0.0.21:80", weight: 2}]
        share: 2.5
        launch_key_file: /etc/sessiongate/launch-tag.key
        force:
          header: X-Sessiongate-Pool
          cookie: sessiongate_pool
          trusted: ["127.0.0.1/32", "10.1.0.0/16", "fd00::/8"]
"#;

#[test]
fn canary_with_defaults() {
    let sf = storefront(&with(CANARY));
    let c = sf.canary.clone().unwrap();
    assert_eq!(c.upstreams, ["10.0.0.21:80"]);
    assert_eq!(c.weights, [2]);
    assert_eq!(c.share_percent, 2.5);
    assert_eq!(
        c.health_check, sf.health_check,
        "defaults to the stable pool's"
    );
    let f = c.force.clone().unwrap();
    assert_eq!(f.header.as_deref(), Some("x-sessiongate-pool"));
    assert_eq!(f.cookie.as_deref(), Some("sessiongate_pool"));
    assert!(f.trusted[1].contains("10.1.2.3".parse().unwrap()));
    let g = c.guard.clone().unwrap();
    assert_eq!(g.window, Duration::from_secs(300));
    assert_eq!(
        (g.buckets, g.significance, g.min_canary_requests),
        (10, 0.001, 200)
    );
    assert_eq!(g.latency_p99_margin, None);
}

#[test]
fn guard_can_be_tuned_or_turned_off() {
    let tuned = with(&format!(
        "{CANARY}        guard: {{window_ms: 60000, buckets: 6, significance: 0.01, min_canary_requests: 50, latency_p99_margin_ms: 250}}\n"
    ));
    let g = storefront(&tuned).canary.unwrap().guard.clone().unwrap();
    assert_eq!(g.window, Duration::from_secs(60));
    assert_eq!(g.latency_p99_margin, Some(Duration::from_millis(250)));
    let off = with(&format!("{CANARY}        guard: {{enabled: false}}\n"));
    assert!(storefront(&off).canary.unwrap().guard.is_none());
}

#[test]
fn canary_problems_name_their_keys() {
    let text = with(
        r#"      upstreams: ["10.0.0.11:80", {addr: "10.0.0.12:80", weight: 0}]
      health_check: {path: discovery, status: 999, interval_ms: 1000, timeout_ms: 2000, failures: 0}
      canary:
        upstreams: []
        share: 101
        launch_key_file: ""
        force: {trusted: ["10.0.0.0/33", "nowhere"]}
        guard: {window_ms: 10, buckets: 0, significance: 0.9, min_canary_requests: 0}
"#,
    );
    let found = keys(&text);
    let p = "stores[0].storefront";
    for k in [
        format!("{p}.upstreams[1].weight"),
        format!("{p}.health_check.path"),
        format!("{p}.health_check.status"),
        format!("{p}.health_check.timeout_ms"),
        format!("{p}.health_check.failures"),
        format!("{p}.canary.upstreams"),
        format!("{p}.canary.share"),
        format!("{p}.canary.launch_key_file"),
        format!("{p}.canary.force"),
        format!("{p}.canary.force.trusted[0]"),
        format!("{p}.canary.force.trusted[1]"),
        format!("{p}.canary.guard.window_ms"),
        format!("{p}.canary.guard.buckets"),
        format!("{p}.canary.guard.significance"),
        format!("{p}.canary.guard.min_canary_requests"),
    ] {
        assert!(found.contains(&k), "missing {k} in {found:?}");
    }
}

#[test]
fn unknown_canary_keys_are_rejected() {
    for (from, to) in [
        ("share:", "shar:"),
        ("trusted:", "trustd:"),
        ("interval_ms", "intervl_ms"),
    ] {
        match from_yaml(&with(&CANARY.replacen(from, to, 1)), "t") {
            Err(ConfigError::Syntax { .. }) => {}
            other => panic!("{to}: expected a syntax error, got {other:?}"),
        }
    }
}

#[test]
fn admin_token_is_required_off_loopback_with_a_canary() {
    let exposed = format!("admin_listen: \"0.0.0.0:9100\"\n{}", with(CANARY));
    assert_eq!(keys(&exposed), ["admin_token_file"]);
    let with_token = format!("admin_token_file: /etc/sessiongate/admin.token\n{exposed}");
    let c = from_yaml(&with_token, "t").unwrap();
    assert_eq!(
        c.admin_token_file,
        Some(std::path::PathBuf::from("/etc/sessiongate/admin.token"))
    );
    // On loopback, or without a canary, no token is needed.
    assert!(from_yaml(&with(CANARY), "t")
        .unwrap()
        .admin_token_file
        .is_none());
    let plain = format!(
        "admin_listen: \"0.0.0.0:9100\"\n{}",
        with("      upstreams: [\"10.0.0.11:80\"]\n")
    );
    assert!(from_yaml(&plain, "t").is_ok());
}
