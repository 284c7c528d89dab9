//! HTTP framing through the gateway: chunked request bodies, `Expect: 100-continue`, HTTP/1.0
//! clients, and several requests on one keep-alive connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::*;

use std::io::Write;

const AVAILABLE: &str = "/Citrix/Store/sessions/v1/available";

fn setup() -> (Sim, Gateway) {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "");
    (sim, gw)
}

fn head(extra: &str) -> String {
    format!(
        "POST {AVAILABLE} HTTP/1.1\r\nHost: gw.test\r\nAuthorization: {ALICE}\r\nAccept: {SESSION_STATE}\r\nContent-Type: {SESSION_PARAMS}\r\n{extra}\r\n"
    )
}

#[test]
fn chunked_request_body_is_forwarded_with_exact_length() {
    let (sim, gw) = setup();
    let body = params("LAPTOP-1", "");
    let (a, b) = body.split_at(body.len() / 2);
    let req = format!(
        "{}{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        head("Transfer-Encoding: chunked\r\n"),
        a.len(),
        b.len()
    );
    let r = send(gw.addr, req.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    let got = sim.sim.requests().last().cloned().unwrap();
    let cl = got
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.clone());
    assert_eq!(cl, Some(got.body.len().to_string()));
    assert!(!got
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding")));
}

#[test]
fn expect_100_continue_is_answered() {
    let (sim, gw) = setup();
    let body = params("LAPTOP-1", "");
    let mut conn = Conn::open(gw.addr);
    conn.write(
        head(&format!(
            "Expect: 100-continue\r\nContent-Length: {}\r\n",
            body.len()
        ))
        .as_bytes(),
    );
    // Read the interim answer before sending the body, as a real client does.
    let interim = conn.read_line();
    assert!(interim.starts_with("HTTP/1.1 100 Continue"), "{interim}");
    assert_eq!(conn.read_line(), "\r\n");
    conn.write(body.as_bytes());
    let r = conn.read_response(false);
    assert_eq!(r.status, 200, "{}", r.text());
    let got = sim.sim.requests().last().cloned().unwrap();
    assert!(!got
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("expect")));
    // The interim answer does not cost the client its connection.
    assert!(r.keeps_alive(), "{:?}", r.header("connection"));
    let again = format!(
        "{}{body}",
        head(&format!("Content-Length: {}\r\n", body.len()))
    );
    assert_eq!(conn.roundtrip(again.as_bytes()).status, 200);
}

#[test]
fn http_10_client_gets_a_framed_answer() {
    let (_sim, gw) = setup();
    let body = params("LAPTOP-1", "");
    let req = format!(
        "POST {AVAILABLE} HTTP/1.0\r\nAuthorization: {ALICE}\r\nContent-Type: {SESSION_PARAMS}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let r = send(gw.addr, req.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.header("transfer-encoding").is_none(),
        "no chunks for HTTP/1.0"
    );
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );
    // Passthrough answers to HTTP/1.0 too.
    let r = send(gw.addr, b"GET /Citrix/Store/endpoints/v1 HTTP/1.0\r\n\r\n");
    assert_eq!(r.status, 200);
    let r = send(
        gw.addr,
        format!("GET /Citrix/Store/resources/v2 HTTP/1.0\r\nAuthorization: {ALICE}\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert!(r.header("transfer-encoding").is_none());
    assert!(r.text().contains("alice"));
}

#[test]
fn two_requests_on_one_connection() {
    let (sim, gw) = setup();
    let mut conn = Conn::open(gw.addr);
    let r1 = conn.roundtrip(&sessions_post(
        AVAILABLE,
        ALICE,
        SESSION_STATE,
        &params("A", ""),
    ));
    assert_eq!(r1.status, 200);
    assert!(r1.keeps_alive());
    let r2 = conn.roundtrip(&sessions_post(
        "/Citrix/Store/sessions/v1/disconnect",
        BOB,
        SESSION_RESULTS,
        &params("B", ""),
    ));
    assert_eq!(r2.status, 200);
    // A passthrough request on the same connection as well.
    let r3 = conn.roundtrip(&get("/Citrix/Store/endpoints/v1"));
    assert_eq!(r3.status, 200);
    assert_eq!(sim.sim.request_count(), 3);
}

#[test]
fn client_that_goes_away_mid_body_does_not_reach_the_upstream() {
    let sim = Sim::demo();
    // A store name of its own: metrics are process-wide and tests run in parallel.
    let gw = Gateway::start(sim.addr, "    name: gone_mid_body\n");
    let mut conn = Conn::open(gw.addr);
    conn.write(head("Content-Length: 500\r\n").as_bytes());
    conn.write(b"<sessionparams");
    conn.reader_mut().get_mut().flush().unwrap();
    drop(conn);
    // The gateway is done with the request once it has counted it.
    assert_eq!(
        gw.metric(
            "sessiongate_rejections_total{reason=\"body_incomplete\",store=\"gone_mid_body\"}",
            1.0
        ),
        1.0
    );
    assert_eq!(sim.sim.request_count(), 0);
    // The gateway still serves others.
    let r = available(&gw, ALICE, &params("C", ""));
    assert_eq!(r.status, 200);
}
