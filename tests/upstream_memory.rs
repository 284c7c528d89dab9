//! Answers far over `max_response_bytes` (a StoreFront server, an XML broker) are refused without
//! the gateway's memory growing with them. The gateway runs in this process, so its memory is
//! this process's: resident set (`VmRSS`) before and after, and the peak (`VmHWM`, reset first
//! through `/proc/self/clear_refs`) while the answers arrive. Alone in its own test binary so
//! that other tests' allocations do not count; its two tests measure one at a time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::farm::{gateway as farm_gateway, list, token, FarmEntry, ALICE_SAM};
use common::scripted::{head, Act, Upstream};
use common::*;

use std::sync::Mutex;

/// Size of every huge answer.
const ANSWER: usize = 64 << 20;
/// Huge answers asked for at once.
const REQUESTS: usize = 8;
/// What the gateway may grow by while they arrive: a quarter of one answer (all of them would
/// be 512 MiB if they were buffered).
const ALLOWED_GROWTH: usize = ANSWER / 4;
/// The measurements take turns.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A `/proc/self/status` field in bytes.
fn status_bytes(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|v| v.strip_prefix(':')))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse::<usize>().ok())
        .map(|kib| kib * 1024)
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

/// Reset the peak resident set to the current one; `false` where the kernel does not allow it.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A server that announces `ANSWER` bytes of `content_type` and sends them, 64 KiB at a time.
fn huge_server(content_type: &'static str) -> Upstream {
    let announce = head(
        "200 OK",
        &[
            ("Content-Type", content_type),
            ("Content-Length", &ANSWER.to_string()),
        ],
    );
    Upstream::always(vec![
        Act::Send(announce),
        Act::Repeat {
            bytes: vec![b' '; 64 << 10],
            times: ANSWER >> 16,
        },
    ])
}

/// Run `ask` `REQUESTS` times at once and measure: (resident before, peak during, resident
/// after), with `ask`'s answers.
fn measure<T: Send>(ask: impl Fn() -> T + Sync) -> ((usize, usize, usize), Vec<T>) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    ask(); // connections, pools and buffers that any first request sets up
    let peak_known = reset_peak();
    let before = status_bytes("VmRSS");
    let answers = std::thread::scope(|s| {
        let asks: Vec<_> = (0..REQUESTS).map(|_| s.spawn(&ask)).collect();
        asks.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let after = status_bytes("VmRSS");
    let peak = if peak_known {
        status_bytes("VmHWM")
    } else {
        after
    };
    ((before, peak, after), answers)
}

fn check((before, peak, after): (usize, usize, usize), what: &str) {
    let mib = |b: usize| b as f64 / f64::from(1 << 20);
    eprintln!(
        "{what}: {REQUESTS} answers of {} MiB: VmRSS {:.1} MiB before, {:.1} MiB after, peak {:.1} MiB (growth {:.1} MiB)",
        ANSWER >> 20,
        mib(before),
        mib(after),
        mib(peak),
        mib(peak.saturating_sub(before))
    );
    assert!(
        peak.saturating_sub(before) < ALLOWED_GROWTH,
        "{what}: grew by {:.1} MiB",
        mib(peak.saturating_sub(before))
    );
}

#[test]
fn huge_storefront_answers_are_502_and_memory_stays_bounded() {
    let server = huge_server(SESSION_STATE);
    let gw = Gateway::start_with_stores(&format!(
        "  - path: /Citrix/Store\n    public_url: https://ws.example.com/Citrix/Store\n    storefront:\n      upstreams: [\"{}\"]\n      upstream_path: /Citrix/Store\n      max_response_bytes: 262144\n      health_check_interval_ms: 0\n",
        server.addr
    ));
    let (figures, answers) = measure(|| available(&gw, ALICE, &params("C", "")));
    for r in &answers {
        assert_eq!((r.status, r.reason()), (502, "upstream_too_large"));
    }
    check(figures, "StoreFront");
    assert_eq!(server.requests(), REQUESTS + 1);
}

#[test]
fn huge_broker_answers_are_refused_and_memory_stays_bounded() {
    let broker = huge_server("text/xml");
    let gw = farm_gateway(
        &[FarmEntry {
            name: "XA65",
            brokers: vec![broker.addr],
            extra: "        max_response_bytes: 65536\n",
        }],
        "",
    );
    let (figures, answers) = measure(|| list(&gw, &token(ALICE_SAM), &params("PC", "")));
    for r in &answers {
        assert_eq!((r.status, r.reason()), (502, "farms_unavailable"));
    }
    check(figures, "XML broker");
    assert_eq!(broker.requests(), REQUESTS + 1);
}
