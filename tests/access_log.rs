//! The access log as operators read it: one structured line per request from the real binary,
//! in JSON and logfmt, with the request id that also reached the StoreFront server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::process::GatewayProcess;
use common::*;

use std::time::Duration;

/// The access lines logged so far, once `n` are there.
fn access_lines(gw: &GatewayProcess, marker: &str, n: usize) -> Vec<String> {
    let log = poll_until(
        Duration::from_secs(10),
        || gw.log_text(),
        |log| log.matches(marker).count() >= n,
    );
    log.lines()
        .filter(|l| l.contains(marker))
        .map(str::to_string)
        .collect()
}

fn available(extra: &[(&str, &str)]) -> Vec<u8> {
    let body = params("LOG-CLIENT", "");
    let len = body.len().to_string();
    let mut headers = vec![
        ("Authorization", ALICE),
        ("Accept", SESSION_STATE),
        ("Content-Type", SESSION_PARAMS),
        ("Content-Length", len.as_str()),
    ];
    headers.extend_from_slice(extra);
    let mut r =
        "POST /Citrix/Store/sessions/v1/available HTTP/1.1\r\nHost: gw.test\r\n".to_string();
    for (n, v) in headers {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r.push_str(&body);
    r.into_bytes()
}

/// The `X-Request-Id` the simulated server received with its last request.
fn upstream_id(sim: &Sim) -> String {
    let last = sim.sim.requests().pop().unwrap();
    let ids: Vec<&String> = last
        .headers
        .iter()
        .filter(|(n, _)| n == "x-request-id")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(ids.len(), 1, "{:?}", last.headers);
    ids[0].clone()
}

#[test]
fn json_lines_carry_the_request_id_sent_upstream() {
    let (sim, gw) = GatewayProcess::with_demo_store("access_log:\n  format: json\n");

    assert_eq!(
        send(gw.addr, &available(&[("X-Request-Id", "lb-7f3e.1:a_b")])).status,
        200
    );
    assert_eq!(upstream_id(&sim), "lb-7f3e.1:a_b");
    assert_eq!(
        send(gw.addr, &available(&[("X-Request-Id", "two words")])).status,
        200
    );
    let made = upstream_id(&sim);
    assert!(
        made.len() == 24 && made.bytes().all(|b| b.is_ascii_hexdigit()),
        "{made}"
    );
    let r = send(
        gw.addr,
        &get("/Citrix/Store/resources/v2?token=secret-in-query"),
    );
    assert!(r.status < 500, "{}", r.status);
    let passthrough = upstream_id(&sim);
    assert_eq!(
        send(gw.addr, &get("/Citrix/Store/sessions/v1/available")).status,
        405
    );

    let lines = access_lines(&gw, "\"log\":\"access\"", 4);
    let records: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let first = &records[0];
    assert_eq!(first["request_id"], "lb-7f3e.1:a_b");
    assert_eq!(first["store"], "store");
    assert_eq!(first["operation"], "available");
    assert_eq!(first["status"], 200);
    assert_eq!(first["backend"], sim.addr.to_string());
    assert!(
        first["duration_ms"].is_u64() && first["upstream_ms"].is_u64(),
        "{first}"
    );
    assert_eq!(records[1]["request_id"], made.as_str());
    assert_eq!(records[2]["request_id"], passthrough.as_str());
    assert_eq!(records[2]["path"], "/Citrix/Store/resources/v2");
    assert_eq!(records[3]["status"], 405);
    assert_eq!(records[3]["reason"], "method_not_allowed");
    assert!(records[3].get("upstream_ms").is_none());
    for line in &lines {
        assert!(
            !line.contains("demo-token-alice") && !line.contains("secret-in-query"),
            "{line}"
        );
    }
}

#[test]
fn logfmt_is_the_default() {
    let (_sim, gw) = GatewayProcess::with_demo_store("");
    assert_eq!(
        send(gw.addr, &available(&[("X-Request-Id", "abc")])).status,
        200
    );
    let lines = access_lines(&gw, " log=access ", 1);
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert!(line.starts_with("ts="), "{line}");
    for field in [
        " request_id=abc ",
        " method=POST ",
        " path=/Citrix/Store/sessions/v1/available ",
        " store=store ",
        " operation=available ",
        " status=200 ",
    ] {
        assert!(line.contains(field), "{field} not in {line}");
    }
}

/// `X-Forwarded-For` is believed (and appended to) from a trusted proxy only; the client address
/// it names is the one logged. 127.0.0.2 plays the trusted load balancer, 127.0.0.1 anyone else.
#[test]
fn forwarded_for_is_believed_from_trusted_proxies_only() {
    let (sim, gw) = GatewayProcess::with_demo_store("trusted_proxies: [\"127.0.0.2/32\"]\n");
    let spoof = [("X-Forwarded-For", "198.51.100.7, 203.0.113.9")];
    let from = |ip: [u8; 4]| {
        common::canary::send_from(std::net::IpAddr::from(ip), gw.addr, &available(&spoof))
    };
    let forwarded = |sim: &Sim| {
        let last = sim.sim.requests().pop().unwrap();
        let values: Vec<String> = last
            .headers
            .into_iter()
            .filter(|(n, _)| n == "x-forwarded-for")
            .map(|(_, v)| v)
            .collect();
        values.join(" | ")
    };

    assert_eq!(from([127, 0, 0, 1]).status, 200);
    assert_eq!(
        forwarded(&sim),
        "127.0.0.1",
        "an untrusted client's header is replaced"
    );
    assert_eq!(from([127, 0, 0, 2]).status, 200);
    assert_eq!(
        forwarded(&sim),
        "198.51.100.7, 203.0.113.9, 127.0.0.2",
        "a trusted proxy's header is appended to"
    );

    let lines = access_lines(&gw, " log=access ", 2);
    assert!(lines[0].contains(" client=127.0.0.1 "), "{}", lines[0]);
    // The nearest hop the trusted proxy vouches for, not the spoofable leftmost one.
    assert!(lines[1].contains(" client=203.0.113.9 "), "{}", lines[1]);
}

/// Requests Pingora refuses before any of the gateway's hooks (a malformed header, CONNECT) and a
/// header the client abandons are counted and logged; a good request is not counted there.
#[test]
fn requests_refused_before_the_gateway_sees_them_are_counted_and_logged() {
    let (_sim, gw) = GatewayProcess::with_demo_store("");
    let unparsed = "sessiongate_requests_unparsed_total";
    assert_eq!(send(gw.addr, &available(&[])).status, 200);
    assert_eq!(metric_at(gw.admin, unparsed, 0.0), 0.0);

    let malformed = b"GET /Citrix/Store/ HTTP/1.1\r\nHost: gw.test\r\nBad Header: x\r\n\r\n";
    assert_eq!(send(gw.addr, malformed).status, 400);
    let connect = b"CONNECT 10.0.0.1:443 HTTP/1.1\r\nHost: 10.0.0.1:443\r\n\r\n";
    assert_eq!(send(gw.addr, connect).status, 405);
    let mut cut = Conn::open(gw.addr);
    cut.write(b"POST /Citrix/Store/sessions/v1/available HTTP/1.1\r\nHost: gw");
    drop(cut);
    assert_eq!(metric_at(gw.admin, unparsed, 3.0), 3.0);

    let lines = access_lines(&gw, "reason=unparsed", 3);
    assert_eq!(lines.len(), 3, "{lines:?}");
    for line in &lines {
        assert!(line.contains("client=127.0.0.1 "), "{line}");
        assert!(
            line.contains("status=0 ") && line.contains("path=- "),
            "{line}"
        );
    }
}
