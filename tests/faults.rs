//! Upstream faults with the simulated StoreFront: refused (502), no backend (503), timeout (504),
//! and the rule that a POST is never sent to a second server once a byte reached the first.
//! Servers that misbehave byte for byte (resets, garbage, trickles, error pages) are in
//! `tests/upstream_faults.rs`, huge answers and memory in `tests/upstream_memory.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::scripted::{Act, Upstream};
use common::*;

use std::time::{Duration, Instant};

use sessiongate::sim::storefront::StoreFrontSim;

#[test]
fn refused_connection_is_502() {
    let dead = free_addr();
    let gw = Gateway::start(dead, "");
    let r = available(&gw, ALICE, &params("C", ""));
    assert_eq!(r.status, 502);
    assert_eq!(r.reason(), "upstream_connect_failed");
    // Passthrough too.
    let r = send(gw.addr, &get("/Citrix/Store/resources/v2"));
    assert_eq!(r.status, 502);
    assert!(!r.text().contains(&dead.to_string()));
}

#[test]
fn refused_server_is_skipped_for_the_next_one() {
    let sim = Sim::demo();
    let dead = free_addr();
    let stores = format!(
        "  - path: /Citrix/Store\n    public_url: https://ws.example.com/Citrix/Store\n    storefront:\n      upstreams: [\"{dead}\", \"{}\"]\n      upstream_path: /Citrix/Store\n      health_check_interval_ms: 0\n",
        sim.addr
    );
    let gw = Gateway::start_with_stores(&stores);
    for _ in 0..4 {
        assert_eq!(available(&gw, ALICE, &params("C", "")).status, 200);
        assert_eq!(
            send(gw.addr, &get("/Citrix/Store/endpoints/v1")).status,
            200
        );
        let r = resources(&gw, ALICE);
        assert_eq!(r.status, 200);
    }
}

#[test]
fn no_healthy_backend_is_503() {
    let dead = free_addr();
    let stores = format!(
        "  - path: /Citrix/Store\n    public_url: https://ws.example.com/Citrix/Store\n    storefront:\n      upstreams: [\"{dead}\"]\n      upstream_path: /Citrix/Store\n      health_check_interval_ms: 100\n"
    );
    let gw = Gateway::start_with_stores(&stores);
    let status = poll_until(
        Duration::from_secs(10),
        || available(&gw, ALICE, &params("C", "")).status,
        |status| *status == 503,
    );
    assert_eq!(status, 503, "the health check takes the server out");
    let r = send(gw.addr, &get("/Citrix/Store/resources/v2"));
    assert_eq!(r.status, 503);
    let ready = send(gw.admin, &get("/readyz"));
    assert_eq!(ready.status, 503);
    assert!(ready.text().contains("store"));
}

#[test]
fn slow_upstream_is_504_within_the_read_timeout() {
    let sim = Sim::demo();
    sim.sim.set_delay(Duration::from_secs(5));
    let gw = Gateway::start(sim.addr, "");
    let started = Instant::now();
    let r = available(&gw, ALICE, &params("C", ""));
    let took = started.elapsed();
    assert_eq!(r.status, 504);
    assert_eq!(r.reason(), "upstream_timeout");
    assert!(
        took < Duration::from_secs(4),
        "read timeout is 2 s, took {took:?}"
    );
}

#[test]
fn a_post_is_never_replayed_to_a_second_server() {
    let sim = Sim::demo();
    // Reads the request, then closes without answering.
    let hole = Upstream::always(vec![Act::Close]);
    let stores = format!(
        "  - path: /Citrix/Store\n    public_url: https://ws.example.com/Citrix/Store\n    storefront:\n      upstreams: [\"{}\", \"{}\"]\n      upstream_path: /Citrix/Store\n      read_timeout_ms: 2000\n      health_check_interval_ms: 0\n",
        hole.addr, sim.addr
    );
    let gw = Gateway::start_with_stores(&stores);
    let n = 6;
    let mut failed = 0;
    for _ in 0..n {
        let r = available(&gw, ALICE, &params("C", ""));
        if r.status != 200 {
            assert_eq!(r.status, 502, "{}", r.text());
            failed += 1;
        }
    }
    let at_hole = hole.requests();
    let at_sim = sim.sim.request_count();
    assert!(
        at_hole > 0,
        "round robin sent some requests to the black hole"
    );
    assert_eq!(
        failed, at_hole,
        "every request the black hole swallowed failed"
    );
    assert_eq!(
        at_hole + at_sim,
        n,
        "each request reached exactly one server"
    );
}

#[test]
fn oversized_upstream_answer_is_502() {
    let sim = Sim::start(StoreFrontSim::demo());
    for i in 0..200 {
        sim.sim
            .add_session("alice", &format!("App{i}"), "LAPTOP-9", false);
    }
    let stores = format!(
        "  - path: /Citrix/Store\n    public_url: https://ws.example.com/Citrix/Store\n    storefront:\n      upstreams: [\"{}\"]\n      upstream_path: /Citrix/Store\n      max_response_bytes: 4096\n      health_check_interval_ms: 0\n",
        sim.addr
    );
    let gw = Gateway::start_with_stores(&stores);
    let r = available(&gw, ALICE, &params("C", ""));
    assert_eq!(r.status, 502);
    assert_eq!(r.reason(), "upstream_too_large");
}
