//! Criterion benchmarks of the per-request protocol work: sessionparams parse + validate +
//! canonicalise, and the sessionState launch-URL rewrite with 1 to 1000 sessions.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sessiongate::protocol::session_params::{self, Limits};
use sessiongate::protocol::session_state::{self, Enumeration, Session, SessionState};

/// The spec's disconnect example with two tickets (citrix-protocols.md §2.1).
const PARAMS: &[u8] = br#"<?xml version="1.0"?>
<sessionparams xmlns="http://citrix.com/delivery-services/1-0/sessionparams">
  <clientName>WI_7IR5mS5__XBwkUuKL</clientName>
  <deviceId>WR_AjT2owY5yJ4ED0J-x</deviceId>
  <tickets>
    <ticket>85EB92973D2C3804F93A99AAEC232D</ticket>
    <ticket>85EB92973D2C3804F93A99AAEC232A</ticket>
  </tickets>
</sessionparams>"#;

fn session_state_with(n: usize) -> Vec<u8> {
    let sessions = (0..n)
        .map(|i| Session {
            id: format!("s{i:08x}"),
            server_type: "win32".into(),
            launch_url: format!("http://10.0.0.11/Citrix/Store/session/v1/s{i:08x}/launch/ica"),
            initial_app: Some(format!("App {i}")),
            initial_app_resource_aggregated: Some(false),
            initial_app_resource_id: Some(format!("XA1.App{i}")),
            publisher_name: Some("Farm1".into()),
        })
        .collect();
    session_state::write(&SessionState {
        enumeration: Enumeration::Full,
        sessions,
    })
}

fn bench_params(c: &mut Criterion) {
    let mut g = c.benchmark_group("sessionparams");
    g.throughput(Throughput::Bytes(PARAMS.len() as u64));
    g.bench_function("parse_validate_canonicalise", |b| {
        b.iter(|| {
            let p = session_params::parse(black_box(PARAMS), true, &Limits::default());
            black_box(p.map(|p| p.to_xml()))
        })
    });
    g.finish();
}

fn bench_state(c: &mut Criterion) {
    let mut g = c.benchmark_group("sessionstate_rewrite");
    for n in [1usize, 10, 100, 1000] {
        let doc = session_state_with(n);
        g.throughput(Throughput::Bytes(doc.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &doc, |b, doc| {
            b.iter(|| {
                black_box(session_state::rewrite_launch_urls(black_box(doc), &|id| {
                    format!(
                        "https://workspace.example.com/Citrix/Store/sessions/v1/{id}/launch/ica"
                    )
                }))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_params, bench_state);
criterion_main!(benches);
