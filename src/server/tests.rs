//! Wiring problems are reported like the file's own: by key, with a fix.

use super::*;
use crate::config::{self, ConfigIssue};
use crate::routing::Upstreams;

const DIR: &str = env!("CARGO_MANIFEST_DIR");

/// A farm-backed store with an HS256 key file and the session-id key file named here.
fn farm_yaml(jwt_key: &str, session_key: &str) -> String {
    format!(
        r#"
session_id_key_file: {DIR}/tests/fixtures/identity/{session_key}
stores:
  - path: /Citrix/Legacy
    public_url: https://workspace.example.com/Citrix/Legacy
    identity:
      jwt:
        algorithm: HS256
        key_file: {DIR}/tests/fixtures/identity/{jwt_key}
    farms:
      - name: A
        brokers: ["10.0.1.10:8080"]
        health_check_interval_ms: 0
"#
    )
}

fn issues(yaml: &str) -> Vec<ConfigIssue> {
    let c = config::from_yaml(yaml, "t").unwrap();
    match prepare(&c) {
        Err(issues) => issues,
        Ok(_) => panic!("expected wiring problems"),
    }
}

#[test]
fn storefront_names_are_configured_and_resolved_once() {
    let c = config::from_yaml(
        r#"
stores:
  - path: /Citrix/Store
    public_url: https://workspace.example.com/Citrix/Store
    storefront:
      upstreams: ["10.0.0.11:80", "localhost:81"]
      upstream_path: /Citrix/Store
      host: sf.corp.example
      health_check_interval_ms: 0
"#,
        "t",
    )
    .unwrap();
    let prepared = prepare(&c).unwrap();
    let Upstreams::StoreFront(servers) = &prepared.router.stores()[0].upstreams else {
        panic!("a StoreFront store");
    };
    for name in ["10.0.0.11:80", "localhost:81", "sf.corp.example"] {
        assert!(
            servers.names.iter().any(|n| n == name),
            "{name}: {:?}",
            servers.names
        );
    }
    let once = servers
        .names
        .iter()
        .filter(|n| *n == "10.0.0.11:80")
        .count();
    assert_eq!(once, 1, "{:?}", servers.names);
    assert!(prepared.health.is_empty(), "checks are off");
}

#[test]
fn every_file_and_name_problem_names_its_key() {
    let cases = [
        (
            farm_yaml("hs256.secret", "hs256-short.secret"),
            "session_id_key_file",
            "at least 32",
        ),
        (
            farm_yaml("hs256-short.secret", "hs256.secret"),
            "stores[0].identity.jwt.key_file",
            "at least 32",
        ),
        (
            farm_yaml("no-such-file", "hs256.secret"),
            "stores[0].identity.jwt.key_file",
            "cannot read",
        ),
        (
            farm_yaml("hs256.secret", "hs256.secret")
                .replace("10.0.1.10:8080", "no-such-host.invalid:8080"),
            "stores[0].farms[0].brokers[0]",
            "does not resolve",
        ),
    ];
    for (yaml, key, problem) in cases {
        let found = issues(&yaml);
        assert!(
            found
                .iter()
                .any(|i| i.key == key && i.problem.contains(problem)),
            "{key}: {found:?}"
        );
    }
}

#[test]
fn a_valid_farm_store_is_wired() {
    let c = config::from_yaml(&farm_yaml("hs256.secret", "hs256.secret"), "t").unwrap();
    let prepared = prepare(&c).unwrap();
    let Upstreams::Farms(f) = &prepared.router.stores()[0].upstreams else {
        panic!("a farm store");
    };
    assert_eq!(f.farms.members.len(), 1);
    assert_eq!(f.farms.members[0].farm.name, "A");
}

/// A StoreFront store with a canary whose launch key is `launch_key`.
fn canary_yaml(launch_key: &str) -> String {
    format!(
        r#"
stores:
  - path: /Citrix/Store
    public_url: https://workspace.example.com/Citrix/Store
    storefront:
      upstreams: ["127.0.0.1:81", {{addr: "127.0.0.1:82", weight: 3}}]
      upstream_path: /Citrix/Store
      health_check: {{path: /Citrix/Store/discovery}}
      canary:
        upstreams: ["127.0.0.1:91"]
        launch_key_file: {DIR}/tests/fixtures/identity/{launch_key}
        share: 5
"#
    )
}

#[test]
fn canary_launch_key_must_be_readable_and_long_enough() {
    for file in ["no-such-file", "hs256-short.secret"] {
        let found = issues(&canary_yaml(file));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key, "stores[0].storefront.canary.launch_key_file");
    }
}

#[test]
fn canary_store_gets_two_weighted_pools() {
    let c = config::from_yaml(&canary_yaml("hs256.secret"), "t").unwrap();
    let prepared = prepare(&c).unwrap();
    let name = prepared.router.stores()[0].config.name.clone();
    let rollout = prepared.router.by_name(&name).unwrap().rollout.as_ref();
    assert_eq!(rollout.unwrap().share().percent(), 5.0);
    assert_eq!(prepared.health.len(), 2, "one HTTP health check per pool");
    let Upstreams::StoreFront(servers) = &prepared.router.stores()[0].upstreams else {
        panic!("a StoreFront store");
    };
    assert!(servers.names.iter().any(|n| n == "127.0.0.1:91"));
    let canary = servers.canary.as_ref().unwrap();
    assert_eq!(canary.select(&[]), Some("127.0.0.1:91".parse().unwrap()));
    let mut to_82 = 0;
    for _ in 0..400 {
        if servers.pool.select(&[]) == Some("127.0.0.1:82".parse().unwrap()) {
            to_82 += 1;
        }
    }
    assert_eq!(to_82, 300, "weight 3 of 4");
}
