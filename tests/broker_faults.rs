//! Legacy farm XML brokers that misbehave, scripted byte for byte (`common::scripted`) behind a
//! farm-backed store: resets, silence, garbage, huge answers, trickles, non-200 answers; the
//! listing's time budget; and which requests may move on to a farm's second broker. What
//! `tests/farms.rs` covers with the simulator (a refused farm and a slow one make the listing
//! partial, every farm failing is a 502, garbage fails over for listings and never for
//! disconnect, a 503 fails a logoff) is not repeated here; the gateway's memory under huge
//! answers is measured in `tests/upstream_memory.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::farm::*;
use common::scripted::{answer, continues, head, timed, Act, Received, Upstream};
use common::*;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Every farm's `connect_timeout_ms` and `timeout_ms`; a farm's whole call, failover included,
/// is bounded by their sum.
const CONNECT: Duration = Duration::from_millis(300);
const TIMEOUT: Duration = Duration::from_millis(600);
/// How much later than its deadline an answer may reach the client (a loaded shared machine).
const MARGIN: Duration = Duration::from_millis(500);
/// Every farm's `max_response_bytes`.
const MAX_RESPONSE: usize = 16 * 1024;

const LISTING: &str = include_str!("fixtures/nfuse/reconnect-session-data-one.xml");
const ADDRESS: &str = include_str!("fixtures/nfuse/address-reconnect.xml");
const TICKET: &str = include_str!("fixtures/nfuse/ticket.xml");
const DISCONNECTED: &str = include_str!("fixtures/nfuse/disconnect-user-sessions.xml");
const FARM_DATA: &str = include_str!("fixtures/nfuse/server-farm-data.xml");

/// The farm settings of every farm here (8-space indented YAML).
fn budget(extra: &str) -> String {
    format!(
        "        connect_timeout_ms: {}\n        timeout_ms: {}\n        max_response_bytes: {MAX_RESPONSE}\n{extra}",
        CONNECT.as_millis(),
        TIMEOUT.as_millis()
    )
}

/// The `Request*` element of an NFuse request the gateway sent.
fn kind(r: &Received) -> String {
    let body = String::from_utf8_lossy(&r.body);
    body.split("<Request")
        .nth(1)
        .map(|s| {
            let name: String = s.chars().take_while(char::is_ascii_alphabetic).collect();
            format!("Request{name}")
        })
        .unwrap_or_default()
}

/// A listing that asks for active sessions too.
fn asks_active(r: &Received) -> bool {
    r.body_has("<SessionType>active</SessionType>")
}

fn client_of(r: &Received) -> String {
    let body = String::from_utf8_lossy(&r.body);
    body.split("<ClientName>")
        .nth(1)
        .and_then(|s| s.split("</ClientName>").next())
        .unwrap_or_default()
        .to_string()
}

/// An NFuse document as a broker sends it.
fn nfuse(document: &[u8]) -> Vec<u8> {
    answer("200 OK", &[("Content-Type", "text/xml")], document)
}

/// What a sound broker answers to `r`: one disconnected Notepad session, its address, a ticket.
fn sound_answer(r: &Received) -> Vec<u8> {
    let logged_off = DISCONNECTED.replace("DisconnectUserSessions", "LogoffUserSessions");
    let document = match kind(r).as_str() {
        "RequestReconnectSessionData" => LISTING,
        "RequestAddress" => ADDRESS,
        "RequestTicket" => TICKET,
        "RequestDisconnectUserSessions" => DISCONNECTED,
        "RequestLogoffUserSessions" => logged_off.as_str(),
        _ => FARM_DATA,
    };
    nfuse(document.as_bytes())
}

fn sound_broker() -> Upstream {
    Upstream::start(|r| vec![Act::Send(sound_answer(r))])
}

/// Broker faults by name, with the `outcome` the gateway counts for the farm.
fn faults() -> Vec<(&'static str, Vec<Act>, &'static str)> {
    let listing = nfuse(LISTING.as_bytes());
    let half = &LISTING.as_bytes()[..LISTING.len() / 2];
    let announce = |len: usize| {
        head(
            "200 OK",
            &[
                ("Content-Type", "text/xml"),
                ("Content-Length", &len.to_string()),
            ],
        )
    };
    let too_many = 4 * MAX_RESPONSE / 1024;
    vec![
        ("reset-after-request", vec![Act::Reset], "broken"),
        (
            "reset-mid-answer",
            vec![
                Act::Send([announce(LISTING.len()).as_slice(), half].concat()),
                Act::Pause(Duration::from_millis(50)),
                Act::Reset,
            ],
            "broken",
        ),
        ("no-answer", vec![Act::Hang], "timeout"),
        (
            "garbage",
            vec![Act::Send(nfuse(b"<html><body>Service Unavailable"))],
            "bad_answer",
        ),
        ("truncated", vec![Act::Send(nfuse(half))], "bad_answer"),
        (
            "too-large",
            vec![
                Act::Send(announce(too_many * 1024)),
                Act::Repeat {
                    bytes: vec![b' '; 1024],
                    times: too_many,
                },
            ],
            "too_large",
        ),
        (
            "trickle",
            vec![Act::Trickle {
                bytes: listing,
                chunk: 1,
                every: Duration::from_millis(20),
            }],
            "timeout",
        ),
        (
            "http-503",
            vec![Act::Send(answer(
                "503 Service Unavailable",
                &[("Content-Type", "text/plain")],
                b"busy",
            ))],
            "bad_status",
        ),
    ]
}

/// A broker playing the fault named by the client name of each request (sound otherwise).
fn broker_faulting_by_client() -> Upstream {
    let faults = faults();
    Upstream::start(move |r| {
        let client = client_of(r);
        faults
            .iter()
            .find(|(name, _, _)| *name == client)
            .map_or_else(
                || vec![Act::Send(sound_answer(r))],
                |(_, acts, _)| acts.clone(),
            )
    })
}

fn is_partial(r: &Response) -> bool {
    r.text().contains("enumeration=\"partial\"")
}

#[test]
fn a_failing_farm_makes_the_listing_partial_within_its_budget() {
    let sound = sound_broker();
    let faulty = broker_faulting_by_client();
    let extra = budget("");
    let gw = gateway(
        &[
            FarmEntry {
                name: "Sound",
                brokers: vec![sound.addr],
                extra: &extra,
            },
            FarmEntry {
                name: "Faulty",
                brokers: vec![faulty.addr],
                extra: &extra,
            },
        ],
        "",
    );
    let mut outcomes: HashMap<&str, f64> = HashMap::new();
    for (fault, _, outcome) in faults() {
        let (r, took) = timed(|| list(&gw, &token(ALICE_SAM), &params(fault, "")));
        eprintln!(
            "{fault}: {} partial={} after {took:?}",
            r.status,
            is_partial(&r)
        );
        assert_eq!(r.status, 200, "{fault}: {}", r.text());
        assert!(is_partial(&r), "{fault}: {}", r.text());
        assert_eq!(
            listed(&r.text()).len(),
            1,
            "{fault}: the sound farm's session"
        );
        assert!(took <= CONNECT + TIMEOUT + MARGIN, "{fault}: {took:?}");
        let count = outcomes.entry(outcome).or_default();
        *count += 1.0;
        let sample = format!("sessiongate_farm_requests_total{{farm=\"Faulty\",outcome=\"{outcome}\",request=\"reconnect_session_data\",store=\"legacy\"}}");
        assert_eq!(gw.metric(&sample, *count), *count, "{fault}");
    }
    assert_eq!(
        faulty.requests(),
        faults().len(),
        "each listing asked it once"
    );
}

#[test]
fn a_farm_whose_brokers_all_hang_is_a_502_within_one_budget_failover_included() {
    // Three brokers that would take 1.8 s one after the other; the farm's budget is 0.9 s.
    let hung: Vec<Upstream> = (0..3).map(|_| Upstream::always(vec![Act::Hang])).collect();
    let extra = budget("");
    let gw = gateway(
        &[FarmEntry {
            name: "Hung",
            brokers: hung.iter().map(|u| u.addr).collect(),
            extra: &extra,
        }],
        "",
    );
    let (r, took) = timed(|| list(&gw, &token(ALICE_SAM), &params("PC", "")));
    eprintln!(
        "all brokers hang: {} {} after {took:?}",
        r.status,
        r.reason()
    );
    assert_eq!((r.status, r.reason()), (502, "farms_unavailable"));
    assert!(took >= CONNECT + TIMEOUT, "{took:?}");
    assert!(took <= CONNECT + TIMEOUT + MARGIN, "{took:?}");
    let mut asked: Vec<usize> = hung.iter().map(Upstream::requests).collect();
    asked.sort_unstable();
    assert_eq!(
        asked,
        vec![0, 1, 1],
        "one broker timed out, the next had what was left of the budget, the last none"
    );
}

#[test]
fn a_listing_without_active_sessions_moves_on_to_the_next_broker() {
    let faulty = broker_faulting_by_client();
    let sound = sound_broker();
    let extra = budget("");
    let gw = gateway(
        &[FarmEntry {
            name: "XA65",
            brokers: vec![faulty.addr, sound.addr],
            extra: &extra,
        }],
        "",
    );
    for (fault, _, _) in faults() {
        let asked = |u: &Upstream| u.count(|r| client_of(r) == fault);
        for i in 0..2 {
            let r = list(&gw, &token(ALICE_SAM), &params(fault, ""));
            assert_eq!(r.status, 200, "{fault} #{i}: {}", r.text());
            assert!(!is_partial(&r), "{fault} #{i}: {}", r.text());
            assert_eq!(listed(&r.text()).len(), 1, "{fault} #{i}");
        }
        assert!(asked(&faulty) >= 1, "{fault}: the faulty broker was tried");
        assert_eq!(
            asked(&sound),
            2,
            "{fault}: every listing ended at the sound one"
        );
    }
}

/// The requests that change something on a farm, and are therefore sent to one broker only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Disconnect,
    Logoff,
    /// A listing asking for active sessions on a pre-XD7 farm: it disconnects them.
    ActiveListing,
    /// The `RequestTicket` of a launch (its `RequestAddress` changes nothing).
    Ticket,
}

impl Change {
    const ALL: [Change; 4] = [
        Change::Disconnect,
        Change::Logoff,
        Change::ActiveListing,
        Change::Ticket,
    ];

    /// Is `r` this change's NFuse request?
    fn is(self, r: &Received) -> bool {
        match self {
            Change::Disconnect => kind(r) == "RequestDisconnectUserSessions",
            Change::Logoff => kind(r) == "RequestLogoffUserSessions",
            Change::ActiveListing => kind(r) == "RequestReconnectSessionData" && asks_active(r),
            Change::Ticket => kind(r) == "RequestTicket",
        }
    }

    fn run(self, gw: &Legacy, launch_url: &str) -> Response {
        let alice = token(ALICE_SAM);
        match self {
            Change::Disconnect => {
                post(gw, "disconnect", &alice, SESSION_RESULTS, &params("PC", ""))
            }
            Change::Logoff => post(gw, "logoff", &alice, SESSION_RESULTS, &params("PC", "")),
            Change::ActiveListing => list(gw, &alice, &active_params("PC")),
            Change::Ticket => launch(gw, launch_url, &alice),
        }
    }

    /// Did the client get the farm's success (`true`) or a failure (`false`)? Panics on anything else.
    fn succeeded(self, r: &Response) -> bool {
        let text = r.text();
        match (self, r.status) {
            (Change::Disconnect | Change::Logoff, 200) if text.contains("status=\"success\"") => {
                true
            }
            (Change::Disconnect | Change::Logoff, 200) if text.contains("status=\"failure\"") => {
                false
            }
            (Change::ActiveListing, 200) if listed(&text).len() == 1 => true,
            (Change::ActiveListing, 502) if r.reason() == "farms_unavailable" => false,
            (Change::Ticket, 200) if text.contains("status=\"success\"") => true,
            (Change::Ticket, 502 | 504) => false,
            _ => panic!(
                "{self:?}: unexpected answer {} {}: {text}",
                r.status,
                r.reason()
            ),
        }
    }
}

/// A broker that answers soundly, except that it plays `fault` to every [`Change`].
fn broker_faulting_changes(fault: Arc<Mutex<Vec<Act>>>) -> Upstream {
    Upstream::start(move |r| {
        if Change::ALL.iter().any(|c| c.is(r)) {
            fault.lock().unwrap().clone()
        } else {
            vec![Act::Send(sound_answer(r))]
        }
    })
}

/// A pre-XD7 farm that allows listing active sessions, with `brokers`.
fn changes_gateway(brokers: Vec<std::net::SocketAddr>) -> (Legacy, String) {
    let extra = budget("        active_sessions: allow\n");
    let gw = gateway(
        &[FarmEntry {
            name: "XA65",
            brokers,
            extra: &extra,
        }],
        "",
    );
    let r = list(&gw, &token(ALICE_SAM), &params("PC", ""));
    let (_, url) = listed(&r.text()).pop().expect("a listed session");
    (gw, url)
}

#[test]
fn a_change_that_reached_a_broker_is_never_sent_to_the_next_one() {
    let fault = Arc::new(Mutex::new(Vec::new()));
    let faulty = broker_faulting_changes(fault.clone());
    let sound = sound_broker();
    let (gw, url) = changes_gateway(vec![faulty.addr, sound.addr]);
    let garbage = nfuse(b"<html>garbage");
    let unavailable = answer("503 Service Unavailable", &[], b"busy");
    for (case, acts) in [
        ("reset after the request", vec![Act::Reset]),
        ("garbage", vec![Act::Send(garbage)]),
        ("no answer", vec![Act::Hang]),
        ("http 503", vec![Act::Send(unavailable)]),
    ] {
        *fault.lock().unwrap() = acts;
        for change in Change::ALL {
            let seen = || {
                (
                    faulty.count(|r| change.is(r)),
                    sound.count(|r| change.is(r)),
                )
            };
            let mut failed = 0;
            for i in 0..4 {
                if change == Change::Ticket && i % 2 == 1 {
                    // A launch selects twice (address, ticket): one more selection lets the
                    // round robin hand tickets to both brokers.
                    assert_eq!(list(&gw, &token(ALICE_SAM), &params("PC", "")).status, 200);
                }
                let before = seen();
                let r = change.run(&gw, &url);
                let after = seen();
                let at_faulty = after.0 - before.0;
                assert_eq!(
                    at_faulty + after.1 - before.1,
                    1,
                    "{case}, {change:?} #{i}: sent once"
                );
                assert_eq!(
                    change.succeeded(&r),
                    at_faulty == 0,
                    "{case}, {change:?} #{i}"
                );
                failed += at_faulty;
            }
            assert!(
                (1..4).contains(&failed),
                "{case}, {change:?}: both brokers were reached"
            );
        }
    }
}

#[test]
fn a_change_moves_on_when_the_first_broker_refuses_the_connection() {
    let sound = sound_broker();
    let (gw, url) = changes_gateway(vec![free_addr(), sound.addr]);
    for change in Change::ALL {
        for i in 0..2 {
            let r = change.run(&gw, &url);
            assert!(change.succeeded(&r), "{change:?} #{i}: {}", r.text());
        }
        assert_eq!(sound.count(|r| change.is(r)), 2, "{change:?}");
    }
}

#[test]
fn a_100_continue_before_a_brokers_answer_is_skipped() {
    let broker = Upstream::start(|r| vec![Act::Send([continues(1), sound_answer(r)].concat())]);
    let extra = budget("");
    let gw = gateway(
        &[FarmEntry {
            name: "XA65",
            brokers: vec![broker.addr],
            extra: &extra,
        }],
        "",
    );
    let r = list(&gw, &token(ALICE_SAM), &params("PC", ""));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!is_partial(&r), "{}", r.text());
    assert_eq!(listed(&r.text()).len(), 1);
}

#[test]
fn nine_100_continues_from_a_broker_are_a_failure_and_the_gateway_keeps_serving() {
    let panics = gateway_panics();
    let nine = Arc::new(AtomicBool::new(false));
    let informational = nine.clone();
    let broker = Upstream::start(move |r| {
        let first = if informational.load(Ordering::SeqCst) {
            continues(9)
        } else {
            Vec::new()
        };
        vec![Act::Send([first, sound_answer(r)].concat())]
    });
    let (gw, url) = changes_gateway(vec![broker.addr]);
    nine.store(true, Ordering::SeqCst);
    let alice = token(ALICE_SAM);
    let r = list(&gw, &alice, &params("PC", ""));
    assert_eq!(
        (r.status, r.reason()),
        (502, "farms_unavailable"),
        "{}",
        r.text()
    );
    let r = post(
        &gw,
        "disconnect",
        &alice,
        SESSION_RESULTS,
        &params("PC", ""),
    );
    assert!(r.text().contains("status=\"failure\""), "{}", r.text());
    // The launch's RequestAddress is not in a fan-out task: today the request task itself
    // panics and the client's connection is closed without an answer.
    let r = launch(&gw, &url, &alice);
    assert_eq!(r.status, 502, "{}", r.text());
    nine.store(false, Ordering::SeqCst);
    let r = list(&gw, &alice, &params("PC", ""));
    assert_eq!(r.status, 200, "the gateway still serves: {}", r.text());
    assert!(!is_partial(&r), "{}", r.text());
    assert_eq!(gateway_panics(), panics, "no gateway thread panicked");
}
