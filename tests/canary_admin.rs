//! The canary endpoints of the admin listener, through real sockets: `GET /canary`, `POST
//! /canary/{store}` setting the share (and the split following it), resuming after a rollback,
//! strict bodies, and the bearer token when one is configured.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::*;

use std::net::SocketAddr;
use std::path::PathBuf;

use serde_json::Value;
use sessiongate::routing::canary::{choose, ClientKey, PoolName, Share};
use sessiongate::sim::storefront::StoreFrontSim;
use std::time::Duration;

/// An admin token for the tests (44 characters, like `head -c 32 /dev/urandom | base64`).
const TOKEN: &str = "c2Vzc2lvbmdhdGUtdGVzdC1hZG1pbi10b2tlbi0wMDAx";

fn launch_key() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/identity/hs256.secret")
}

/// A store named `name` at /Citrix/Store, stable pool `stable`, canary pool `canary` at
/// `share` %, forcing header from loopback, and `guard` (YAML flow mapping) as its guard.
fn canary_store(
    name: &str,
    stable: SocketAddr,
    canary: SocketAddr,
    share: f64,
    guard: &str,
) -> String {
    format!(
        "  - path: /Citrix/Store\n    name: {name}\n    public_url: https://ws.example.com/Citrix/Store\n    storefront:\n      upstreams: [\"{stable}\"]\n      upstream_path: /Citrix/Store\n      connect_timeout_ms: 500\n      read_timeout_ms: 2000\n      health_check_interval_ms: 0\n      canary:\n        upstreams: [\"{canary}\"]\n        share: {share}\n        launch_key_file: {}\n        force: {{header: X-Sessiongate-Pool, trusted: [\"127.0.0.1/32\"]}}\n        guard: {guard}\n",
        launch_key().display()
    )
}

/// A file holding `text`, unique to this test.
fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sessiongate-canary-admin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn json(r: &Response) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.text()))
}

/// POST `body` to `/canary{store}` with optional `Authorization`.
fn post(gw: &Gateway, store: &str, auth: Option<&str>, body: &str) -> Response {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
    send(
        gw.admin,
        &request("POST", &format!("/canary{store}"), &headers, body),
    )
}

fn canary_of(gw: &Gateway) -> Value {
    let r = send(gw.admin, &get("/canary/Citrix/Store"));
    assert_eq!(r.status, 200, "{}", r.text());
    json(&r)
}

#[test]
fn get_lists_each_canary_store() {
    let (stable, canary) = (Sim::demo(), Sim::demo());
    let gw = Gateway::start_with_stores(&canary_store(
        "admin_get",
        stable.addr,
        canary.addr,
        12.5,
        "{window_ms: 60000, buckets: 6}",
    ));
    let r = send(gw.admin, &get("/canary"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let all = json(&r);
    let stores = all["stores"].as_array().unwrap();
    assert_eq!(stores.len(), 1, "{all}");
    let one = &stores[0];
    assert_eq!(
        one,
        &canary_of(&gw),
        "the list and the store's own path agree"
    );
    assert_eq!(one["store"], "/Citrix/Store");
    assert_eq!(one["name"], "admin_get");
    assert_eq!(one["share_percent"], 12.5);
    assert_eq!(one["state"], "active");
    assert_eq!(one["guard"], true);
    assert_eq!(one["window"]["seconds"], 60.0);
    for pool in ["stable", "canary"] {
        assert_eq!(one["window"][pool]["requests"], 0, "{one}");
        assert_eq!(one["window"][pool]["failures"], 0, "{one}");
    }
    assert!(one["last_rollback"].is_null());

    for (case, req, status) in [
        ("no such store", get("/canary/Citrix/Other"), 404),
        ("a prefix of the store", get("/canary/Citrix"), 404),
        ("not a canary path", get("/canaryx"), 404),
        (
            "POST to the list",
            request("POST", "/canary", &[], "{}"),
            405,
        ),
        (
            "PUT to a store",
            request("PUT", "/canary/Citrix/Store", &[], "{}"),
            405,
        ),
    ] {
        assert_eq!(send(gw.admin, &req).status, status, "{case}");
    }
}

#[test]
fn post_sets_the_share_on_loopback_without_a_token() {
    let (stable, canary) = (Sim::demo(), Sim::demo());
    let gw = Gateway::start_with_stores(&canary_store(
        "admin_post",
        stable.addr,
        canary.addr,
        10.0,
        "{enabled: false}",
    ));
    let r = post(&gw, "/Citrix/Store", None, r#"{"share": 25}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let answer = json(&r);
    assert_eq!(answer["share_percent"], 25.0);
    assert_eq!(answer["state"], "active");
    assert_eq!(answer["guard"], false);
    assert!(answer["window"].is_null(), "no guard, no window");
    assert_eq!(canary_of(&gw)["share_percent"], 25.0);
    let r = post(&gw, "/Citrix/Store", None, r#"{"share": 0}"#);
    assert_eq!(json(&r)["state"], "off");
    assert_eq!(
        gw.metric(
            "sessiongate_canary_operator_changes_total{store=\"admin_post\"}",
            2.0
        ),
        2.0
    );

    for (case, body, status) in [
        ("out of range", r#"{"share": 100.5}"#, 400),
        ("a string", r#"{"share": "5"}"#, 400),
        ("another member", r#"{"share": 5, "resume": true}"#, 400),
        ("not JSON", "share=5", 400),
        ("empty", "", 400),
        (
            "too large",
            &format!("{{\"share\": 5{}}}", " ".repeat(2000)),
            413,
        ),
    ] {
        let r = post(&gw, "/Citrix/Store", None, body);
        assert_eq!(r.status, status, "{case}: {}", r.text());
        assert!(json(&r)["error"].is_string(), "{case}");
    }
    assert_eq!(
        post(&gw, "/Citrix/Other", None, r#"{"share": 5}"#).status,
        404
    );
    assert_eq!(
        canary_of(&gw)["share_percent"],
        0.0,
        "refused changes change nothing"
    );
}

#[test]
fn a_configured_token_is_required_even_on_loopback() {
    let (stable, canary) = (Sim::demo(), Sim::demo());
    let token_file = temp_file("admin.token", &format!("{TOKEN}\n"));
    let gw = Gateway::start_with(
        &format!("admin_token_file: {}\n", token_file.display()),
        &canary_store(
            "admin_token",
            stable.addr,
            canary.addr,
            10.0,
            "{enabled: false}",
        ),
    );
    let body = r#"{"share": 30}"#;
    let bearer = format!("Bearer {TOKEN}");
    let wrong = format!("Bearer {}y", &TOKEN[..TOKEN.len() - 1]);
    for (case, auth) in [
        ("no token", None),
        ("wrong token", Some(wrong.as_str())),
        ("another scheme", Some("Basic YWRtaW46YWRtaW4=")),
        ("the token without a scheme", Some(TOKEN)),
    ] {
        let r = post(&gw, "/Citrix/Store", auth, body);
        assert_eq!(r.status, 401, "{case}: {}", r.text());
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"sessiongate-admin\""),
            "{case}"
        );
        assert!(!r.text().contains(TOKEN), "{case}");
    }
    assert_eq!(
        canary_of(&gw)["share_percent"],
        10.0,
        "reading needs no token"
    );
    assert!(
        gw.metric(
            "sessiongate_admin_denied_total{reason=\"unauthorized\"}",
            4.0
        ) >= 4.0
    );
    let r = post(&gw, "/Citrix/Store", Some(&bearer), body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(canary_of(&gw)["share_percent"], 30.0);
    // The token is in no metric.
    assert!(!gw.metrics().contains(TOKEN));
}

#[test]
fn an_unusable_token_file_fails_the_check() {
    let short = temp_file("short.token", "too-short\n");
    for (file, problem) in [
        (short.display().to_string(), "at least 32"),
        ("/nonexistent/admin.token".to_string(), "cannot read"),
    ] {
        let yaml = format!(
            "listen: [\"127.0.0.1:1\"]\nadmin_listen: \"127.0.0.1:2\"\nadmin_token_file: {file}\nstores:\n{}",
            store_yaml("/Citrix/Store", "https://ws.example.com/Citrix/Store", free_addr(), "")
        );
        let config = sessiongate::config::from_yaml(&yaml, "test").unwrap();
        let issues = sessiongate::server::admin_access(&config).unwrap_err();
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].key, "admin_token_file");
        assert!(issues[0].problem.contains(problem), "{issues:?}");
    }
}

/// A stable and a canary simulator, each naming itself in `x-sim-server`.
fn named_sims() -> (Sim, Sim) {
    let stable = Sim::start(StoreFrontSim::demo());
    stable.sim.set_server_name("stable");
    let canary = Sim::start(StoreFrontSim::demo());
    canary.sim.set_server_name("canary");
    (stable, canary)
}

/// The pool at `percent` of a request with this deviceId (clientName `C`), as the gateway
/// decides it.
fn pool_at(percent: f64, device: &str) -> PoolName {
    let (key, _) = ClientKey::derive(Some(device), Some("C"), None, None);
    choose(Share::from_percent(percent).unwrap(), key)
}

/// The first `device-N` whose pool at each share of `shares` is the one given.
fn device(shares: &[(f64, PoolName)]) -> String {
    (1..100_000)
        .map(|i| format!("device-{i}"))
        .find(|d| shares.iter().all(|(p, pool)| pool_at(*p, d) == *pool))
        .unwrap()
}

/// Which simulator answered an `available` of `device`, and the status.
fn answered_by(gw: &Gateway, device: &str) -> (u16, String) {
    let r = available(
        gw,
        ALICE,
        &params("C", &format!("<deviceId>{device}</deviceId>")),
    );
    (r.status, r.header("x-sim-server").unwrap_or("").to_string())
}

#[test]
fn post_moves_devices_between_pools() {
    let (stable, canary) = named_sims();
    let gw = Gateway::start_with_stores(&canary_store(
        "admin_split",
        stable.addr,
        canary.addr,
        10.0,
        "{enabled: false}",
    ));
    let early = device(&[(10.0, PoolName::Canary)]);
    let late = device(&[(10.0, PoolName::Stable), (50.0, PoolName::Canary)]);
    let never = device(&[(50.0, PoolName::Stable)]);
    for _ in 0..2 {
        assert_eq!(answered_by(&gw, &early), (200, "canary".into()));
        assert_eq!(answered_by(&gw, &late), (200, "stable".into()));
    }
    assert_eq!(
        post(&gw, "/Citrix/Store", None, r#"{"share": 50}"#).status,
        200
    );
    assert_eq!(
        answered_by(&gw, &late),
        (200, "canary".into()),
        "raised: it moves in"
    );
    assert_eq!(
        answered_by(&gw, &early),
        (200, "canary".into()),
        "and nobody moves out"
    );
    assert_eq!(answered_by(&gw, &never), (200, "stable".into()));
    assert_eq!(
        post(&gw, "/Citrix/Store", None, r#"{"share": 0}"#).status,
        200
    );
    for d in [&early, &late, &never] {
        assert_eq!(answered_by(&gw, d), (200, "stable".into()), "{d}");
    }
}

#[test]
fn resume_after_a_rollback() {
    let (stable, canary) = named_sims();
    let gw = Gateway::start_with_stores(&canary_store(
        "admin_resume",
        stable.addr,
        canary.addr,
        50.0,
        "{window_ms: 10000, buckets: 20, significance: 0.001, min_canary_requests: 20}",
    ));
    let to_canary = device(&[(50.0, PoolName::Canary)]);
    let to_stable = device(&[(50.0, PoolName::Stable)]);
    // The canary fails, switched on over HTTP as a human would.
    let r = send(canary.addr, &request("POST", "/__sim/fault", &[], "500"));
    assert_eq!(r.status, 200);
    // Traffic to both pools until the guard, which tests once per 0.5 s bucket, rolls back.
    let state = poll_until(
        Duration::from_secs(20),
        || {
            answered_by(&gw, &to_canary);
            answered_by(&gw, &to_stable);
            canary_of(&gw)
        },
        |c| c["state"] == "rolled_back",
    );
    assert_eq!(state["state"], "rolled_back", "{state}");
    assert_eq!(state["share_percent"], 0.0);
    let evidence = &state["last_rollback"];
    assert_eq!(evidence["cause"], "errors", "{state}");
    assert!(
        evidence["canary"]["requests"].as_u64().unwrap() >= 20,
        "{state}"
    );
    assert_eq!(evidence["canary_rate"], 1.0, "{state}");
    assert_eq!(evidence["stable_rate"], 0.0, "{state}");
    assert!(evidence["p_value"].as_f64().unwrap() < 0.001, "{state}");
    assert!(evidence["z"].as_f64().unwrap() > 3.0, "{state}");
    assert_eq!(
        answered_by(&gw, &to_canary),
        (200, "stable".into()),
        "share 0"
    );

    // Repaired, then resumed by an operator.
    assert_eq!(
        send(canary.addr, &request("POST", "/__sim/fault", &[], "none")).status,
        200
    );
    let r = post(&gw, "/Citrix/Store", None, r#"{"share": 50}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let resumed = json(&r);
    assert_eq!(resumed["state"], "active");
    assert_eq!(resumed["share_percent"], 50.0);
    assert_eq!(resumed["last_rollback"], *evidence, "the evidence stays");
    assert_eq!(resumed["window"]["canary"]["requests"], 0, "a fresh window");
    assert_eq!(answered_by(&gw, &to_canary), (200, "canary".into()));
}
