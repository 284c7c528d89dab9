//! Pooled connections the server has closed. A server may close an idle keep-alive connection
//! just as the gateway takes it from its pool: the request then meets a closed connection before
//! any answer. A request that changes nothing (a listing) is sent again on another connection
//! and the client never sees the race; one that changes something (a disconnect) is never sent
//! twice, and fails. The servers here (`common::scripted`) answer the first request of every
//! connection and close the connection on reading the second, which is that race made certain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::farm::{self, FarmEntry, ALICE_SAM};
use common::scripted::{answer, timed, Act, Received, Upstream};
use common::*;

use std::time::Duration;

const STATE: &str = include_str!("fixtures/storefront/sessionstate-available.xml");
const RESULTS: &str = include_str!("fixtures/storefront/sessionresults-success.xml");
const NFUSE_LISTING: &str = include_str!("fixtures/nfuse/reconnect-session-data-one.xml");
const NFUSE_DISCONNECTED: &str = include_str!("fixtures/nfuse/disconnect-user-sessions.xml");

/// Answer the first request of a connection with `answer_for`; close on reading the second.
fn closing_on_reuse(answer_for: fn(&Received) -> Vec<u8>) -> Upstream {
    Upstream::start(move |r| {
        if r.on_connection == 0 {
            vec![Act::Send(answer_for(r))]
        } else {
            vec![Act::Close]
        }
    })
}

fn storefront_answer(r: &Received) -> Vec<u8> {
    if r.head.contains("/sessions/v1/available") {
        answer(
            "200 OK",
            &[("Content-Type", SESSION_STATE)],
            STATE.as_bytes(),
        )
    } else {
        answer(
            "200 OK",
            &[("Content-Type", SESSION_RESULTS)],
            RESULTS.as_bytes(),
        )
    }
}

fn broker_answer(r: &Received) -> Vec<u8> {
    let body = String::from_utf8_lossy(&r.body);
    let document = if body.contains("RequestDisconnectUserSessions") {
        NFUSE_DISCONNECTED
    } else {
        NFUSE_LISTING
    };
    answer(
        "200 OK",
        &[("Content-Type", "text/xml")],
        document.as_bytes(),
    )
}

fn storefront_gateway(upstream: &Upstream) -> Gateway {
    storefront_gateway_with(upstream, "")
}

/// `extra`: more keys of the store's `storefront` section (6-space indented YAML).
fn storefront_gateway_with(upstream: &Upstream, extra: &str) -> Gateway {
    Gateway::start_with_stores(&format!(
        "  - path: /Citrix/Store\n    public_url: https://ws.example.com/Citrix/Store\n    storefront:\n      upstreams: [\"{}\"]\n      upstream_path: /Citrix/Store\n      health_check_interval_ms: 0\n{extra}",
        upstream.addr
    ))
}

/// Requests the server read on a connection it had already answered on (and then closed).
fn met_closed(upstream: &Upstream) -> usize {
    upstream.count(|r| r.on_connection > 0)
}

#[test]
fn a_storefront_listing_on_a_connection_the_server_closed_is_sent_again() {
    let upstream = closing_on_reuse(storefront_answer);
    let gw = storefront_gateway(&upstream);
    for i in 0..4 {
        let r = available(&gw, ALICE, &params("PC", ""));
        assert_eq!(r.status, 200, "listing #{i}: {}", r.text());
        assert!(r.text().contains("<session "), "listing #{i}: {}", r.text());
    }
    // Every listing after the first took a pooled connection, met it closed, and was sent again.
    assert_eq!(met_closed(&upstream), 3, "the pooled connection was reused");
    assert_eq!(upstream.requests(), 4 + 3);
}

#[test]
fn a_listing_sent_again_still_ends_within_the_read_timeout() {
    const READ_TIMEOUT: Duration = Duration::from_millis(1000);
    // A loaded shared machine may be this late; sending again with a whole new timeout would be
    // 900 ms later.
    const MARGIN: Duration = Duration::from_millis(500);
    // The first connection answers; a reused one is closed after 900 ms; a new one never answers.
    let upstream = Upstream::start(|r| match (r.on_connection, r.index) {
        (0, 0) => vec![Act::Send(storefront_answer(r))],
        (0, _) => vec![Act::Hang],
        _ => vec![Act::Pause(Duration::from_millis(900)), Act::Close],
    });
    let gw = storefront_gateway_with(
        &upstream,
        &format!("      read_timeout_ms: {}\n", READ_TIMEOUT.as_millis()),
    );
    assert_eq!(available(&gw, ALICE, &params("PC", "")).status, 200);
    let (r, took) = timed(|| available(&gw, ALICE, &params("PC", "")));
    assert_eq!(r.status, 504, "{}", r.text());
    assert_eq!(met_closed(&upstream), 1, "the pooled connection was reused");
    assert_eq!(upstream.requests(), 3, "the listing was sent again");
    assert!(took < READ_TIMEOUT + MARGIN, "answered after {took:?}");
}

#[test]
fn a_storefront_disconnect_on_a_connection_the_server_closed_is_never_sent_again() {
    let upstream = closing_on_reuse(storefront_answer);
    let gw = storefront_gateway(&upstream);
    assert_eq!(available(&gw, ALICE, &params("PC", "")).status, 200);
    let tickets = "<tickets><ticket>85EB92973D2C3804F93A99AAEC232D</ticket></tickets>";
    let r = results(&gw, "disconnect", ALICE, &params("PC", tickets));
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(met_closed(&upstream), 1, "the pooled connection was reused");
    let disconnects = upstream.count(|r| r.head.contains("/sessions/v1/disconnect"));
    assert_eq!(disconnects, 1, "the disconnect was sent once");
}

#[test]
fn a_farm_listing_is_sent_again_and_a_disconnect_is_not() {
    let broker = closing_on_reuse(broker_answer);
    let gw = farm::gateway(
        &[FarmEntry {
            name: "XD7",
            brokers: vec![broker.addr],
            extra: "        pre_xd7: false\n        health_check_interval_ms: 0\n",
        }],
        "",
    );
    let alice = farm::token(ALICE_SAM);
    for i in 0..3 {
        let r = farm::list(&gw, &alice, &params("PC", ""));
        assert_eq!(r.status, 200, "listing #{i}: {}", r.text());
        assert!(
            r.text().contains("enumeration=\"full\""),
            "listing #{i}: {}",
            r.text()
        );
    }
    assert_eq!(met_closed(&broker), 2, "the pooled connection was reused");
    // A farm-backed store tells a change no farm confirmed in the document, not the status.
    let r = farm::post(
        &gw,
        "disconnect",
        &alice,
        SESSION_RESULTS,
        &params("PC", ""),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("status=\"failure\""), "{}", r.text());
    let disconnects = broker
        .count(|r| String::from_utf8_lossy(&r.body).contains("RequestDisconnectUserSessions"));
    assert_eq!(disconnects, 1, "the disconnect was sent once");
}
