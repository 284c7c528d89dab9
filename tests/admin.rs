//! The admin listener: metrics after real traffic, health and readiness, nothing else.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::*;

#[test]
fn metrics_count_what_happened() {
    let sim = Sim::demo();
    // A store name of its own: metrics are process-wide and tests run in parallel.
    let gw = Gateway::start(sim.addr, "    name: metrics_store\n");
    assert_eq!(
        available(&gw, ALICE, &params("SECRET-CLIENT-NAME", "")).status,
        200
    );
    assert_eq!(
        available(&gw, ALICE, &params("SECRET-CLIENT-NAME", "")).status,
        200
    );
    assert_eq!(available(&gw, "Bearer x", &params("C", "")).status, 401);
    let r = send(
        gw.addr,
        &request("GET", "/Citrix/Store/sessions/v1/available", &[], ""),
    );
    assert_eq!(r.status, 405);
    assert_eq!(send(gw.addr, &get("/nowhere")).status, 404);

    let text = gw.metrics();
    let s = "store=\"metrics_store\"";
    let exactly = [
        (
            format!(
                "sessiongate_requests_total{{operation=\"available\",pool=\"stable\",status_class=\"2xx\",{s}}}"
            ),
            2.0,
        ),
        (
            format!(
                "sessiongate_requests_total{{operation=\"available\",pool=\"stable\",status_class=\"4xx\",{s}}}"
            ),
            2.0,
        ),
        (
            format!("sessiongate_rejections_total{{reason=\"unauthorized\",{s}}}"),
            1.0,
        ),
        (
            format!("sessiongate_rejections_total{{reason=\"method_not_allowed\",{s}}}"),
            1.0,
        ),
        (
            format!("sessiongate_request_duration_seconds_count{{operation=\"available\",pool=\"stable\",{s}}}"),
            4.0,
        ),
    ];
    for (sample, want) in &exactly {
        assert_eq!(gw.metric(sample, *want), *want, "{sample} in {text}");
    }
    let at_least = [
        (
            "sessiongate_rejections_total{reason=\"no_route\",store=\"none\"}".to_string(),
            1.0,
        ),
        (
            format!("sessiongate_upstream_duration_seconds_count{{pool=\"stable\",{s}}}"),
            2.0,
        ),
    ];
    for (sample, least) in &at_least {
        assert!(gw.metric(sample, *least) >= *least, "{sample} in {text}");
    }
    assert!(text.contains("# TYPE sessiongate_request_duration_seconds histogram"));
    assert!(text.contains("sessiongate_build_info{version="));
    // Nothing from a request becomes a label.
    assert!(!text.contains("SECRET-CLIENT-NAME"));
    assert!(!text.contains("demo-token-alice"));
}

#[test]
fn upstream_errors_are_counted_by_kind() {
    let gw = Gateway::start(free_addr(), "    name: errors_store\n");
    assert_eq!(available(&gw, ALICE, &params("C", "")).status, 502);
    assert_eq!(
        gw.metric(
            "sessiongate_upstream_errors_total{kind=\"connect_failed\",pool=\"stable\",store=\"errors_store\"}",
            1.0
        ),
        1.0
    );
}

#[test]
fn health_and_readiness() {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "");
    for (case, req, status) in [
        ("healthz", get("/healthz"), 200),
        ("readyz", get("/readyz"), 200),
        ("another path", get("/other"), 404),
        (
            "POST to metrics",
            request("POST", "/metrics", &[], "x"),
            405,
        ),
    ] {
        let r = send(gw.admin, &req);
        assert_eq!(r.status, status, "{case}: {}", r.text());
    }
    let m = send(gw.admin, &get("/metrics"));
    assert!(m
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    assert!(m.text().contains(&format!(
        "sessiongate_backend_up{{backend=\"{}\",pool=\"stable\",store=\"store\"}} 1",
        sim.addr
    )));
}
