//! StoreFront servers that misbehave, scripted byte for byte (`common::scripted`): resets, answers
//! that cannot be read or are too large, silence, trickles, error pages, and a pool of two where
//! the first fails. What `tests/faults.rs` already covers with the simulator (refused → 502,
//! no server up → 503, a slow simulator → 504, a black hole in a pool of two, an oversized
//! listing) is not repeated here; the gateway's memory under huge answers is measured in
//! `tests/upstream_memory.rs`, a process of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::scripted::{answer, continues, head, timed, Act, Received, Upstream};
use common::*;

use std::net::SocketAddr;
use std::time::Duration;

/// The stores' `read_timeout_ms`.
const READ_TIMEOUT: Duration = Duration::from_millis(600);
/// How much later than its deadline an answer may reach the client (a loaded shared machine).
const MARGIN: Duration = Duration::from_millis(500);
/// The stores' `max_response_bytes`.
const MAX_RESPONSE: usize = 16 * 1024;
/// A StoreFront listing: the specification's example (corrected, see the fixtures' README).
const STATE: &str = include_str!("fixtures/storefront/sessionstate-available.xml");

/// A store at /Citrix/Store in front of `upstreams`, with the timeouts and limit above.
fn store(upstreams: &[SocketAddr]) -> String {
    let list: Vec<String> = upstreams.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "  - path: /Citrix/Store\n    public_url: https://ws.example.com/Citrix/Store\n    storefront:\n      upstreams: [{}]\n      upstream_path: /Citrix/Store\n      connect_timeout_ms: 300\n      read_timeout_ms: {}\n      max_response_bytes: {MAX_RESPONSE}\n      health_check_interval_ms: 0\n",
        list.join(", "),
        READ_TIMEOUT.as_millis()
    )
}

fn gateway(upstreams: &[SocketAddr]) -> Gateway {
    Gateway::start_with_stores(&store(upstreams))
}

/// A complete `200` answer whose body is `state`, announced as a sessionState.
fn state_answer(state: &[u8]) -> Vec<u8> {
    answer("200 OK", &[("Content-Type", SESSION_STATE)], state)
}

/// A sound listing answer.
fn listing() -> Vec<u8> {
    state_answer(STATE.as_bytes())
}

/// The head of a listing answer announcing `len` body bytes.
fn listing_head(len: usize) -> Vec<u8> {
    head(
        "200 OK",
        &[
            ("Content-Type", SESSION_STATE),
            ("Content-Length", &len.to_string()),
        ],
    )
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `available` for client `client` (the scripted upstreams tell cases apart by it).
fn list_as(gw: &Gateway, client: &str) -> Response {
    available(gw, ALICE, &params(client, ""))
}

/// The client name in a request the gateway forwarded.
fn client_of(r: &Received) -> String {
    let body = String::from_utf8_lossy(&r.body);
    body.split("<clientName>")
        .nth(1)
        .and_then(|s| s.split("</clientName>").next())
        .unwrap_or_default()
        .to_string()
}

/// Answers that cannot be used, by the client name that asks for them, with the reason the
/// gateway gives; every one is a 502.
fn unusable_answers() -> Vec<(&'static str, Vec<Act>, &'static str)> {
    let state = STATE.as_bytes();
    let half = &state[..state.len() / 2];
    let kib = vec![b'x'; 1024];
    let chunk = concat(&[b"400\r\n", &kib, b"\r\n"]);
    let too_many = 4 * MAX_RESPONSE / 1024;
    vec![
        ("reset-after-request", vec![Act::Reset], "upstream_broken"),
        ("closed-after-request", vec![Act::Close], "upstream_broken"),
        (
            "reset-mid-answer",
            vec![
                Act::Send(concat(&[&listing_head(state.len()), half])),
                Act::Pause(Duration::from_millis(100)),
                Act::Reset,
            ],
            "upstream_broken",
        ),
        (
            "closed-short-of-content-length",
            vec![
                Act::Send(concat(&[&listing_head(state.len()), half])),
                Act::Close,
            ],
            "upstream_broken",
        ),
        (
            "not-http",
            vec![Act::Send(b"SSH-2.0-OpenSSH_9.6\r\n".to_vec()), Act::Close],
            "upstream_broken",
        ),
        (
            "not-xml",
            vec![Act::Send(state_answer(b"<html><body>It works!"))],
            "upstream_bad_answer",
        ),
        (
            "truncated-xml",
            vec![Act::Send(state_answer(half))],
            "upstream_bad_answer",
        ),
        (
            "too-large",
            vec![
                Act::Send(listing_head(too_many * 1024)),
                Act::Repeat {
                    bytes: kib.clone(),
                    times: too_many,
                },
            ],
            "upstream_too_large",
        ),
        (
            "too-large-chunked",
            vec![
                Act::Send(head(
                    "200 OK",
                    &[
                        ("Content-Type", SESSION_STATE),
                        ("Transfer-Encoding", "chunked"),
                    ],
                )),
                Act::Repeat {
                    bytes: chunk,
                    times: too_many,
                },
                Act::Send(b"0\r\n\r\n".to_vec()),
            ],
            "upstream_too_large",
        ),
    ]
}

#[test]
fn answers_that_cannot_be_used_are_502_and_each_request_reaches_the_server_once() {
    let cases = unusable_answers();
    let scripts = cases.clone();
    let server = Upstream::start(move |r| {
        let client = client_of(r);
        scripts
            .iter()
            .find(|(name, _, _)| *name == client)
            .map_or_else(|| vec![Act::Send(listing())], |(_, acts, _)| acts.clone())
    });
    let gw = gateway(&[server.addr]);
    for (name, _, reason) in &cases {
        let r = list_as(&gw, name);
        assert_eq!(
            (r.status, r.reason()),
            (502, *reason),
            "{name}: {}",
            r.text()
        );
        assert!(!r.text().contains(&server.addr.to_string()), "{name}");
    }
    assert_eq!(
        server.requests(),
        cases.len(),
        "no request was sent twice, not even to the same server"
    );
    let r = list_as(&gw, "sound");
    assert_eq!(r.status, 200, "the gateway still serves: {}", r.text());
}

#[test]
fn no_answer_is_a_504_no_later_than_the_read_timeout() {
    for (case, acts) in [
        ("nothing at all", vec![Act::Hang]),
        (
            "a head, then nothing",
            vec![Act::Send(listing_head(STATE.len())), Act::Hang],
        ),
    ] {
        let server = Upstream::always(acts);
        let gw = gateway(&[server.addr]);
        let (r, took) = timed(|| list_as(&gw, "C"));
        eprintln!("{case}: {} {} after {took:?}", r.status, r.reason());
        assert_eq!((r.status, r.reason()), (504, "upstream_timeout"), "{case}");
        assert!(took >= READ_TIMEOUT, "{case}: {took:?}");
        assert!(took <= READ_TIMEOUT + MARGIN, "{case}: {took:?}");
        assert_eq!(server.requests(), 1, "{case}");
    }
}

#[test]
fn a_trickled_answer_is_bounded_in_total_by_the_read_timeout() {
    let whole = listing();
    // 20 ms between bytes never trips a per-read timeout of 600 ms; the whole answer would take
    // about 20 s.
    let server = Upstream::always(vec![Act::Trickle {
        bytes: whole.clone(),
        chunk: 1,
        every: Duration::from_millis(20),
    }]);
    let gw = gateway(&[server.addr]);
    let (r, took) = timed(|| list_as(&gw, "C"));
    eprintln!("trickle: {} {} after {took:?}", r.status, r.reason());
    assert_eq!((r.status, r.reason()), (504, "upstream_timeout"));
    assert!(took <= READ_TIMEOUT + MARGIN, "{took:?}");

    // The same answer trickled fast enough to end in time (about 200 ms) is used.
    let server = Upstream::always(vec![Act::Trickle {
        bytes: whole,
        chunk: 64,
        every: Duration::from_millis(10),
    }]);
    let gw = gateway(&[server.addr]);
    let (r, took) = timed(|| list_as(&gw, "C"));
    assert_eq!(r.status, 200, "{took:?}: {}", r.text());
}

#[test]
fn a_storefront_error_keeps_its_status_but_not_a_page_naming_the_server() {
    // IIS-style pages that echo the Host header, which the gateway sets to the server's address.
    let server = Upstream::start(|r| {
        let host = r.header("host").unwrap_or("?").to_string();
        let page = if client_of(r) == "names-the-server" {
            format!("<html><body>Runtime error on http://{host}/Citrix/Store</body></html>")
        } else {
            "<html><body>Runtime error</body></html>".to_string()
        };
        vec![Act::Send(answer(
            "500 Internal Server Error",
            &[("Content-Type", "text/html"), ("Retry-After", "5")],
            page.as_bytes(),
        ))]
    });
    let gw = gateway(&[server.addr]);
    let r = list_as(&gw, "plain");
    assert_eq!(r.status, 500, "the server's status is kept");
    assert_eq!(r.reason(), "", "the server's answer, not the gateway's");
    assert_eq!(r.text(), "<html><body>Runtime error</body></html>");
    assert_eq!(r.header("retry-after"), Some("5"));

    let r = list_as(&gw, "names-the-server");
    let r2 = results(&gw, "logoff", ALICE, &params("names-the-server", ""));
    for r in [r, r2] {
        assert_eq!(r.status, 500);
        assert!(r.body.is_empty(), "{}", r.text());
        assert_eq!(r.header("content-length"), Some("0"));
        assert_eq!(r.header("content-type"), None);
        assert!(r
            .headers
            .iter()
            .all(|(_, v)| !v.contains(&server.addr.to_string())));
    }
}

/// What the first server of a pool of two does with a POST.
enum First {
    Refuses,
    /// Plays the acts, and the client gets this status.
    Fails(Vec<Act>, u16),
}

#[test]
fn a_post_that_reached_the_first_server_never_reaches_the_second() {
    let state = STATE.as_bytes();
    let garbage = state_answer(b"garbage");
    let cut = concat(&[&listing_head(state.len()), &state[..100]]);
    for (case, first) in [
        ("refused", First::Refuses),
        (
            "reset after the request",
            First::Fails(vec![Act::Reset], 502),
        ),
        ("garbage", First::Fails(vec![Act::Send(garbage)], 502)),
        ("no answer", First::Fails(vec![Act::Hang], 504)),
        (
            "reset mid-answer",
            First::Fails(
                vec![
                    Act::Send(cut),
                    Act::Pause(Duration::from_millis(50)),
                    Act::Reset,
                ],
                502,
            ),
        ),
    ] {
        let second = Upstream::always(vec![Act::Send(listing())]);
        let (first, failing) = match first {
            First::Refuses => (None, 200),
            First::Fails(acts, status) => (Some(Upstream::always(acts)), status),
        };
        let first_addr = first.as_ref().map_or_else(free_addr, |u| u.addr);
        let gw = gateway(&[first_addr, second.addr]);
        let seen = |u: &Option<Upstream>| u.as_ref().map_or((0, 0), |u| (u.requests(), u.bytes()));
        for i in 0..4 {
            let (before_first, before_second) = (seen(&first), (second.requests(), second.bytes()));
            let r = list_as(&gw, "C");
            let (after_first, after_second) = (seen(&first), (second.requests(), second.bytes()));
            if after_first.0 > before_first.0 {
                assert_eq!(after_first.0, before_first.0 + 1, "{case} #{i}");
                assert_eq!(r.status, failing, "{case} #{i}: {}", r.text());
                assert_eq!(
                    after_second, before_second,
                    "{case} #{i}: the second got bytes"
                );
            } else {
                assert_eq!(r.status, 200, "{case} #{i}: {}", r.text());
                assert_eq!(after_second.0, before_second.0 + 1, "{case} #{i}");
            }
        }
        match &first {
            None => assert_eq!(second.requests(), 4, "{case}: refused moves on"),
            Some(u) => assert!(u.requests() > 0, "{case}: round robin reached the first"),
        }
    }
}

#[test]
fn a_few_100_continues_before_the_answer_are_skipped() {
    let server = Upstream::always(vec![Act::Send(concat(&[&continues(2), &listing()]))]);
    let gw = gateway(&[server.addr]);
    let r = list_as(&gw, "C");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("<initialapp>MSPaint</initialapp>"));
}

#[test]
fn nine_100_continues_are_a_502_and_the_gateway_keeps_serving() {
    let panics = gateway_panics();
    let server = Upstream::start(|r| {
        let answer = if r.index == 0 {
            concat(&[&continues(9), &listing()])
        } else {
            listing()
        };
        vec![Act::Send(answer)]
    });
    let gw = gateway(&[server.addr]);
    let r = list_as(&gw, "C");
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.reason().starts_with("upstream_"), "{}", r.reason());
    let r = list_as(&gw, "C");
    assert_eq!(r.status, 200, "the gateway still serves: {}", r.text());
    assert_eq!(gateway_panics(), panics, "no gateway thread panicked");
}
