//! What operators watch: after traffic of every kind through one gateway (StoreFront stores with
//! a canary, a broken store, a farm store with a pre-XD7 farm and a dead one), every series the
//! Grafana dashboard and the Prometheus rules query exists in `/metrics`, with the label values
//! they select; and the scrape passes `promtool check metrics`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::canary::{canary_store, device_params, send_from};
use common::farm::{self, entry, farm_store_item, jwt_identity, Farm};
use common::*;

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use sessiongate::sim::storefront::Fault;

/// A selector in a PromQL expression: a `sessiongate_` metric and its `label="value"` matchers
/// (regex and negative matchers are not checked: they select nothing in particular).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Selector {
    metric: String,
    labels: Vec<(String, String)>,
}

/// Every `sessiongate_…{…}` selector in `expr`.
fn selectors(expr: &str) -> Vec<Selector> {
    let mut found = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("sessiongate_") {
        let tail = &rest[at..];
        // `store:sessiongate_…:rate5m` is a recording rule's name, not a metric.
        if rest[..at].ends_with(':') {
            rest = &tail["sessiongate_".len()..];
            continue;
        }
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let metric = tail[..end].to_string();
        let mut labels = Vec::new();
        if let Some(inner) = tail[end..].strip_prefix('{') {
            let close = inner.find('}').unwrap();
            for matcher in inner[..close].split(',') {
                if let Some((name, value)) = matcher.split_once("=\"") {
                    let name = name.trim();
                    if !name.ends_with(['!', '=', '~']) {
                        labels.push((name.to_string(), value.trim_end_matches('"').to_string()));
                    }
                }
            }
        }
        found.push(Selector { metric, labels });
        rest = &tail[end..];
    }
    found
}

/// The PromQL of the dashboard and of the alert and recording rules.
fn queries() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf");
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("grafana/sessiongate.json")).unwrap(),
    )
    .unwrap();
    let mut exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_string())
        .collect();
    let rules: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(root.join("prometheus/sessiongate.rules.yaml")).unwrap(),
    )
    .unwrap();
    for group in rules["groups"].as_sequence().unwrap() {
        for rule in group["rules"].as_sequence().unwrap() {
            exprs.push(rule["expr"].as_str().unwrap().to_string());
        }
    }
    exprs
}

/// Does a sample of the scrape match `sel` (the metric itself, or its histogram series)?
fn present(scrape: &str, sel: &Selector) -> bool {
    scrape.lines().filter(|l| !l.starts_with('#')).any(|line| {
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let name = &line[..name_end];
        let base = name
            .strip_suffix("_bucket")
            .or_else(|| name.strip_suffix("_count"))
            .or_else(|| name.strip_suffix("_sum"))
            .unwrap_or(name);
        (name == sel.metric || base == sel.metric)
            && sel
                .labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
    })
}

/// The gateway's configuration: three StoreFront stores and a farm store.
fn stores(pools: &common::canary::Pools, live_farm: &Farm, dead: SocketAddr) -> String {
    let force = "        force:\n          header: X-Sessiongate-Pool\n          trusted: [\"127.0.0.2/32\"]\n";
    let guard = "        guard: {window_ms: 1000, buckets: 4, significance: 0.001, min_canary_requests: 20}\n";
    let check = "      health_check: {path: /Citrix/Store/endpoints/v1, interval_ms: 100, timeout_ms: 100, failures: 1, successes: 1}\n";
    // No HTTP health check here: the failing canary must stay in rotation for the guard to see it.
    let main = canary_store(
        &[pools.stable.addr],
        &[pools.canary.addr],
        50.0,
        "",
        &format!("{force}{guard}"),
    );
    // A canary whose only server is down: its clients fall back to stable.
    let fallback = canary_store(&[pools.stable.addr], &[dead], 100.0, check, "").replace(
        "path: /Citrix/Store\n    public_url: https://ws.example.com/Citrix/Store\n",
        "path: /Citrix/Fallback\n    public_url: https://ws.example.com/Citrix/Fallback\n",
    );
    // No server answers: 502s, upstream errors; and active-session listings refused.
    let broken = store_yaml(
        "/Citrix/Broken",
        "https://ws.example.com/Citrix/Broken",
        dead,
        "    active_sessions: reject\n",
    );
    let dead_farm = farm::FarmEntry {
        name: "DeadFarm",
        brokers: vec![dead],
        extra: "",
    };
    let legacy = farm_store_item(
        farm::STORE,
        "legacy",
        &[
            entry(live_farm, "        active_sessions: reject\n"),
            dead_farm,
        ],
        "",
        &jwt_identity(),
    );
    format!("{main}{fallback}{broken}{legacy}")
}

fn post(gw: &Gateway, path: &str, auth: &str, body: &str) -> Response {
    send(gw.addr, &sessions_post(path, auth, SESSION_STATE, body))
}

/// Traffic that gives every series something to count.
fn traffic(gw: &Gateway, pools: &common::canary::Pools) {
    let available = "/Citrix/Store/sessions/v1/available";
    for i in 0..20 {
        post(gw, available, ALICE, &device_params(&format!("dev-{i}")));
    }
    assert_eq!(send(gw.addr, &get(available)).status, 405);
    let forced = request(
        "POST",
        available,
        &[
            ("Authorization", ALICE),
            ("Accept", SESSION_STATE),
            ("Content-Type", SESSION_PARAMS),
            ("X-Sessiongate-Pool", "canary"),
        ],
        &device_params("forced"),
    );
    send_from(IpAddr::from([127, 0, 0, 1]), gw.addr, &forced);
    // The canary fails: the guard rolls it back.
    pools.canary.sim.set_fault(Some(Fault::Status(500)));
    let rolled = poll_until(
        Duration::from_secs(20),
        || {
            for i in 0..40 {
                post(gw, available, ALICE, &device_params(&format!("bad-{i}")));
            }
            gw.metrics()
        },
        |m| m.contains("sessiongate_canary_rollbacks_total{"),
    );
    assert!(rolled.contains("sessiongate_canary_rollbacks_total{"));
    let fell_back = poll_until(
        Duration::from_secs(10),
        || {
            post(
                gw,
                "/Citrix/Fallback/sessions/v1/available",
                ALICE,
                &device_params("f"),
            );
            gw.metrics()
        },
        |m| m.contains("sessiongate_canary_fallbacks_total{"),
    );
    assert!(fell_back.contains("sessiongate_canary_fallbacks_total{"));
    post(
        gw,
        "/Citrix/Broken/sessions/v1/available",
        ALICE,
        &params("B", ""),
    );
    let active = farm::active_params("B");
    post(gw, "/Citrix/Broken/sessions/v1/available", ALICE, &active);
    let token = farm::token(farm::ALICE_SAM);
    let legacy = format!("{}/sessions/v1/available", farm::STORE);
    let r = post(gw, &legacy, &token, &params("L", ""));
    assert_eq!(r.status, 200, "{}", r.text());
    post(gw, &legacy, &token, &active);
    post(gw, &legacy, "CitrixAuth not-a-token", &params("L", ""));
    // An idle client connection, closed by the gateway.
    let idle = std::net::TcpStream::connect(gw.addr).unwrap();
    poll_until(
        Duration::from_secs(10),
        || gw.metrics(),
        |m| m.contains("sessiongate_client_connections_dropped_total{"),
    );
    drop(idle);
}

/// `promtool check metrics` on `scrape`, when promtool is there (`.ci/run` installs it and
/// requires it through SESSIONGATE_REQUIRE_PROMTOOL).
fn promtool_check(scrape: &str) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var_os("SESSIONGATE_REQUIRE_PROMTOOL").is_none(),
                "promtool is required: {e}"
            );
            eprintln!("promtool not found ({e}): `promtool check metrics` skipped");
            return;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scrape.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_series_the_dashboard_and_alerts_query_exists_after_traffic() {
    let pools = common::canary::Pools::demo();
    let live_farm = Farm::demo(true);
    let dead = free_addr();
    let gw = Gateway::start_with(
        &format!(
            "clients: {{idle_timeout_ms: 300}}\nsession_id_key_file: {}\n",
            farm::secret_path()
        ),
        &stores(&pools, &live_farm, dead),
    );
    traffic(&gw, &pools);
    let scrape = gw.metrics();

    let wanted: BTreeSet<Selector> = queries().iter().flat_map(|q| selectors(q)).collect();
    assert!(wanted.len() >= 20, "{wanted:?}");
    let missing: Vec<&Selector> = wanted.iter().filter(|s| !present(&scrape, s)).collect();
    assert!(
        missing.is_empty(),
        "not in /metrics: {missing:#?}\n{scrape}"
    );
    promtool_check(&scrape);
}
