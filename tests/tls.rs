//! TLS: the gateway's HTTPS listener (HTTP/1.1 and HTTP/2 by ALPN, a certificate the test makes)
//! and its own TLS to StoreFront servers and farm XML brokers checked against a private CA
//! (`ca_file`) and the configured `host`. Configuration errors of certificate files are in
//! `tests/cli.rs` style below (`-t` through the library's check).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::farm::{self, list, token, ALICE_SAM};
use common::tls::{h2_request, h2_silent_until_closed, server_settings, Pki, TlsConn};
use common::*;

use std::time::{Duration, Instant};

use common::introspection::Introspection;
use sessiongate::config::{IdentityConfig, IdentitySource, IntrospectionConfig};
use sessiongate::identity::Verifier;
use sessiongate::sim::farm::FarmSim;
use sessiongate::sim::storefront::StoreFrontSim;

const AVAILABLE: &str = "/Citrix/Store/sessions/v1/available";

/// A gateway with an HTTPS listener for "gateway.test" in front of the demo StoreFront.
fn https_gateway(pki: &Pki, sim: &Sim, top: &str) -> Gateway {
    let (cert, key) = pki.issue("gateway", &["gateway.test"]);
    let stores = store_yaml(
        "/Citrix/Store",
        "https://ws.example.com/Citrix/Store",
        sim.addr,
        "",
    );
    common::tls::gateway(&cert, &key, top, &stores)
}

#[test]
fn https_listener_answers_http1() {
    let pki = Pki::new("Gateway CA");
    let sim = Sim::demo();
    let gw = https_gateway(&pki, &sim, "");
    let mut conn = TlsConn::open(gw.addr, "gateway.test", pki.client(&[b"http/1.1"]));
    let request = sessions_post(AVAILABLE, ALICE, SESSION_STATE, &params("C", ""));
    let r = conn.roundtrip(&request);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some(SESSION_STATE));
    assert!(r.text().contains("<session "), "{}", r.text());
    assert_eq!(conn.alpn().as_deref(), Some(&b"http/1.1"[..]));
    // The same connection carries the next request.
    assert_eq!(conn.roundtrip(&request).status, 200);
}

#[test]
fn https_listener_answers_http2() {
    let pki = Pki::new("Gateway CA");
    let sim = Sim::demo();
    let gw = https_gateway(&pki, &sim, "");
    let body = params("C", "");
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("https://gateway.test{AVAILABLE}"))
        .header("authorization", ALICE)
        .header("accept", SESSION_STATE)
        .header("content-type", SESSION_PARAMS)
        .header("content-length", body.len())
        .body(())
        .unwrap();
    let config = pki.client(&[b"h2", b"http/1.1"]);
    let (status, headers, answer) =
        h2_request(gw.addr, "gateway.test", config, request, body.as_bytes());
    let text = String::from_utf8_lossy(&answer);
    assert_eq!(status, 200, "{text}");
    assert_eq!(headers.get("content-type").unwrap(), SESSION_STATE);
    assert!(text.contains("<session "), "{text}");
    // The same answer as over HTTP/1.1: the protocol changes nothing the gateway decides.
    let mut conn = TlsConn::open(gw.addr, "gateway.test", pki.client(&[b"http/1.1"]));
    let h1 = conn.roundtrip(&sessions_post(AVAILABLE, ALICE, SESSION_STATE, &body));
    assert_eq!(urls(&h1.text()), urls(&text));
    // A refusal is the gateway's own over HTTP/2 too.
    let request = http::Request::builder()
        .method("GET")
        .uri(format!("https://gateway.test{AVAILABLE}"))
        .body(())
        .unwrap();
    let config = pki.client(&[b"h2"]);
    let (status, headers, _) = h2_request(gw.addr, "gateway.test", config, request, b"");
    assert_eq!(status, 405);
    assert_eq!(headers.get("allow").unwrap(), "POST");
    // A passthrough path goes to the server over HTTP/1.1 and comes back over HTTP/2.
    let request = http::Request::builder()
        .method("GET")
        .uri("https://gateway.test/Citrix/Store/resources/v2")
        .header("authorization", ALICE)
        .body(())
        .unwrap();
    let config = pki.client(&[b"h2"]);
    let (status, _, answer) = h2_request(gw.addr, "gateway.test", config, request, b"");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    assert!(!answer.is_empty());
}

#[test]
fn https_idle_connection_is_bounded_by_the_idle_limit_not_the_header_one() {
    let pki = Pki::new("Gateway CA");
    let sim = Sim::demo();
    let top = "clients:\n  header_timeout_ms: 300\n  idle_timeout_ms: 1500\n";
    let gw = https_gateway(&pki, &sim, top);
    let mut conn = TlsConn::open(gw.addr, "gateway.test", pki.client(&[b"http/1.1"]));
    let request = sessions_post(AVAILABLE, ALICE, SESSION_STATE, &params("C", ""));
    assert_eq!(conn.roundtrip(&request).status, 200);
    // Idle for longer than the header deadline: waiting for a request is not reading one.
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(conn.roundtrip(&request).status, 200);
    // Past the idle limit the gateway closes it, and says so in its metrics.
    let started = Instant::now();
    let closed = conn.closed_by_server();
    assert!(closed, "the idle connection stays open");
    let waited = started.elapsed();
    assert!(
        waited > Duration::from_millis(1000) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
}

#[test]
fn http2_connections_are_held_to_the_idle_and_header_limits() {
    let pki = Pki::new("Gateway CA");
    let sim = Sim::demo();
    let top = "clients:\n  header_timeout_ms: 400\n  idle_timeout_ms: 1200\n";
    let gw = https_gateway(&pki, &sim, top);
    let dropped = |reason: &str| {
        let sample = format!("sessiongate_client_connections_dropped_total{{reason=\"{reason}\"}}");
        // Read once: `metric` waits for a value, and here only growth is known.
        gw.metrics()
            .lines()
            .find_map(|l| l.strip_prefix(sample.as_str()))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let (idle_before, header_before) = (dropped("idle_timeout"), dropped("header_timeout"));
    // Nothing after the handshake: closed at the idle limit.
    let waited = h2_silent_until_closed(gw.addr, "gateway.test", pki.client(&[b"h2"]), b"")
        .expect("an idle HTTP/2 connection is closed");
    assert!(
        waited >= Duration::from_millis(1000),
        "closed after {waited:?}"
    );
    // A preface begun and never finished: closed at the header limit, well before the idle one.
    let waited = h2_silent_until_closed(gw.addr, "gateway.test", pki.client(&[b"h2"]), b"PRI * ")
        .expect("a stalled preface is cut off");
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_millis(1100),
        "closed after {waited:?}"
    );
    // Counted just after the close: wait for it, by deadline.
    let grown = poll_until(
        Duration::from_secs(2),
        || (dropped("idle_timeout"), dropped("header_timeout")),
        |(idle, header)| *idle > idle_before && *header > header_before,
    );
    assert!(
        grown.0 > idle_before && grown.1 > header_before,
        "{grown:?}"
    );
}

/// A StoreFront store section over HTTPS to `upstream`, its certificates checked against
/// `ca_file` and `host`.
fn tls_store(
    upstream: std::net::SocketAddr,
    name: &str,
    host: &str,
    ca_file: &std::path::Path,
) -> String {
    format!(
        "  - path: /Citrix/Store\n    name: {name}\n    public_url: https://ws.example.com/Citrix/Store\n    storefront:\n      upstreams: [\"{upstream}\"]\n      upstream_path: /Citrix/Store\n      tls: true\n      host: {host}\n      ca_file: {}\n      connect_timeout_ms: 1000\n      read_timeout_ms: 2000\n      health_check_interval_ms: 0\n",
        ca_file.display()
    )
}

#[test]
fn storefront_over_https_with_a_private_ca() {
    let pki = Pki::new("StoreFront CA");
    let (cert, key) = pki.issue("storefront", &["sf.test"]);
    let sim = StoreFrontSim::demo();
    let (addr, _running) = serve(|a| sim.tls_service(a, server_settings(&cert, &key)));
    let gw = Gateway::start_with_stores(&tls_store(addr, "sf_tls", "sf.test", &pki.ca_file));
    let r = available(&gw, ALICE, &params("C", ""));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("<session "), "{}", r.text());
    // Passthrough paths go through Pingora's proxy: the same CA and name apply.
    let r = resources(&gw, ALICE);
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn storefront_certificate_of_another_ca_or_name_is_refused() {
    let pki = Pki::new("StoreFront CA");
    let (cert, key) = pki.issue("storefront", &["sf.test"]);
    let sim = StoreFrontSim::demo();
    let (addr, _running) = serve(|a| sim.tls_service(a, server_settings(&cert, &key)));
    let other = Pki::new("Another CA");
    for (store, host, ca) in [
        ("sf_wrong_ca", "sf.test", &other.ca_file),
        ("sf_wrong_name", "other.test", &pki.ca_file),
    ] {
        let gw = Gateway::start_with_stores(&tls_store(addr, store, host, ca));
        let r = available(&gw, ALICE, &params("C", ""));
        assert_eq!(r.status, 502, "{store}: {}", r.text());
        assert_eq!(r.reason(), "upstream_tls_failed", "{store}");
        let r = resources(&gw, ALICE);
        assert_eq!(r.status, 502, "{store}: {}", r.text());
        assert_eq!(r.reason(), "upstream_tls_failed", "{store}");
        let sample =
            format!("sessiongate_upstream_errors_total{{kind=\"tls_failed\",pool=\"stable\",store=\"{store}\"}}");
        assert_eq!(gw.metric(&sample, 2.0), 2.0, "{sample}");
    }
    assert!(sim.requests().is_empty(), "no request reached the server");
}

/// A pool's HTTP health check goes over TLS like its requests: the store's `ca_file` and
/// `host` apply, so a server of the private CA passes and one of another CA fails.
#[test]
fn http_health_checks_over_https_use_the_stores_ca() {
    let pki = Pki::new("StoreFront CA");
    let (cert, key) = pki.issue("storefront", &["sf.test"]);
    let sim = StoreFrontSim::demo();
    let (addr, _running) = serve(|a| sim.tls_service(a, server_settings(&cert, &key)));
    let other = Pki::new("Another CA");
    let check = "      health_check: {path: /Citrix/Store/endpoints/v1, interval_ms: 200, timeout_ms: 200, failures: 1, successes: 1}\n";
    for (store, ca, up) in [
        ("hc_ok", &pki.ca_file, 1.0),
        ("hc_wrong_ca", &other.ca_file, 0.0),
    ] {
        let gw = Gateway::start_with_stores(&format!(
            "{}{check}",
            tls_store(addr, store, "sf.test", ca)
        ));
        let sample = format!(
            "sessiongate_backend_up{{backend=\"{addr}\",pool=\"stable\",store=\"{store}\"}}"
        );
        // Up by default until the first check: wait for the verdict, then see it stays.
        assert_eq!(gw.metric(&sample, up), up, "{store}");
        let held = poll_until(
            Duration::from_millis(500),
            || gw.metric(&sample, up),
            |v| *v != up,
        );
        assert_eq!(held, up, "{store}");
    }
}

#[test]
fn farm_broker_over_https_with_a_private_ca() {
    let pki = Pki::new("Farm CA");
    let (cert, key) = pki.issue("broker", &["broker.test"]);
    let sim = FarmSim::demo("TlsFarm", false);
    let (addr, _running) = serve(|a| sim.tls_service(a, server_settings(&cert, &key)));
    let good = format!(
        "        tls: true\n        host: broker.test\n        ca_file: {}\n",
        pki.ca_file.display()
    );
    let farm = common::farm::FarmEntry {
        name: "TlsFarm",
        brokers: vec![addr],
        extra: &good,
    };
    let gw = farm::gateway(&[farm], "");
    let r = list(&gw, &token(ALICE_SAM), &params("NEW-DEVICE", ""));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains("<initialapp>Notepad</initialapp>"),
        "{}",
        r.text()
    );

    let other = Pki::new("Another CA");
    let bad = format!(
        "        tls: true\n        host: broker.test\n        ca_file: {}\n",
        other.ca_file.display()
    );
    let farm = common::farm::FarmEntry {
        name: "TlsFarm",
        brokers: vec![addr],
        extra: &bad,
    };
    let gw = farm::gateway(&[farm], "");
    let before = sim.requests().len();
    let r = list(&gw, &token(ALICE_SAM), &params("NEW-DEVICE", ""));
    assert_eq!(r.status, 502, "{}", r.text());
    let sample = "sessiongate_farm_requests_total{farm=\"TlsFarm\",outcome=\"tls_failed\",request=\"reconnect_session_data\",store=\"legacy\"}";
    assert_eq!(gw.metric(sample, 1.0), 1.0, "{sample}");
    assert_eq!(
        sim.requests().len(),
        before,
        "no request reached the broker"
    );
}

/// Token introspection at `url`, its certificate checked against `ca_file`.
fn introspection(url: String, ca_file: &std::path::Path) -> IdentityConfig {
    IdentityConfig {
        source: IdentitySource::Introspection(IntrospectionConfig {
            url,
            client_id: None,
            client_secret_file: None,
            ca_file: Some(ca_file.to_path_buf()),
            timeout: Duration::from_millis(2000),
            cache_ttl: Duration::from_secs(60),
            cache_entries: 100,
            audience: vec![],
        }),
        user_claim: "username".into(),
        sids_claim: None,
        domain: Some("CORP".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_over_https_with_a_private_ca() {
    let pki = Pki::new("IdP CA");
    let server = Introspection::start_tls(pki.server_config(&["127.0.0.1"]));
    let url = format!("https://127.0.0.1:{}/oauth2/introspect", server.addr.port());
    let v = Verifier::new(&introspection(url.clone(), &pki.ca_file)).unwrap();
    let who = v.verify("good-1").await.unwrap();
    assert_eq!(who.sam, "CORP\\alice");
    assert_eq!(server.count(), 1);
    // Another CA's file: the handshake fails, nothing is asked, the token is unavailable.
    let other = Pki::new("Another CA");
    let v = Verifier::new(&introspection(url, &other.ca_file)).unwrap();
    assert!(v.verify("good-2").await.is_err());
    assert_eq!(server.count(), 1, "no request reached the endpoint");
}
