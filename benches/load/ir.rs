//! Repeatable instruction counts of the per-request protocol work, for before/after comparisons
//! on a noisy machine (criterion's medians move with the neighbours; callgrind's counts do not):
//!
//! `valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/protocol-ir OP N`
//!
//! runs OP N times; (Ir of N = 10,000 − Ir of N = 0) / 10,000 is its cost. OP is `params` (the
//! spec's disconnect example: parse + validate + canonicalise, as `benches/protocol.rs`) or
//! `rewrite-K` (the launch-URL rewrite of a sessionState of K sessions, indented as StoreFront
//! writes it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use sessiongate::protocol::session_params::{self, Limits};
use sessiongate::protocol::session_state;

const PARAMS: &[u8] = br#"<?xml version="1.0"?>
<sessionparams xmlns="http://citrix.com/delivery-services/1-0/sessionparams">
  <clientName>WI_7IR5mS5__XBwkUuKL</clientName>
  <deviceId>WR_AjT2owY5yJ4ED0J-x</deviceId>
  <tickets>
    <ticket>85EB92973D2C3804F93A99AAEC232D</ticket>
    <ticket>85EB92973D2C3804F93A99AAEC232A</ticket>
  </tickets>
</sessionparams>"#;

/// A sessionState of `n` sessions, indented like StoreFront's.
fn state(n: usize) -> Vec<u8> {
    let mut doc = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<sessionState xmlns=\"http://citrix.com/delivery-services/1-0/sessionstate\" enumeration=\"full\">\n  <sessions>\n",
    );
    for i in 0..n {
        doc.push_str(&format!(
            "    <session id=\"k2m8{i:06}\">\n      <serverType>win32</serverType>\n      <launchIca>\n        <url>http://10.0.0.11/Citrix/Store/sessions/v1/k2m8{i:06}/launch/ica</url>\n      </launchIca>\n      <initialapp>Notepad {i}</initialapp>\n      <initialappresourceaggregated>false</initialappresourceaggregated>\n      <initialappresourceid>XA1.Notepad {i}</initialappresourceid>\n      <publishername>Farm1</publishername>\n    </session>\n"
        ));
    }
    doc.push_str("  </sessions>\n</sessionState>\n");
    doc.into_bytes()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_default();
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    if op == "params" {
        for _ in 0..n {
            let p = session_params::parse(black_box(PARAMS), true, &Limits::default()).unwrap();
            black_box(p.to_xml());
        }
    } else if let Some(k) = op.strip_prefix("rewrite-") {
        let doc = state(k.parse().expect("rewrite-K"));
        let url = |id: &str| {
            format!("https://workspace.example.com/Citrix/Store/sessions/v1/{id}/launch/ica")
        };
        for _ in 0..n {
            black_box(session_state::rewrite_launch_urls(black_box(&doc), &url).unwrap());
        }
    } else {
        eprintln!("usage: protocol-ir params|rewrite-K [N]");
        std::process::exit(2);
    }
}
