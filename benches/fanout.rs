//! Fan-out latency of a farm-backed store: one `available` request through the real gateway to 1,
//! 2 and 5 simulated farms on loopback, over a kept-alive connection.
//!
//! Two families: farms that answer at once (the gateway's own cost per farm: NFuse writing,
//! parallel exchanges, parsing, merging, sealing ids) and farms that each take 20 ms (the answer
//! should take the slowest farm's time, not the sum).
//!
//! `cargo bench --bench fanout -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sessiongate::server::{build, standalone, wait_for_listener, Running};
use sessiongate::sim::farm::{FarmSim, FarmSimConfig};

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// `n` farms (each with two disconnected sessions of the user) behind one gateway.
struct Setup {
    gateway: SocketAddr,
    farms: Vec<Arc<FarmSim>>,
    _running: Vec<Running>,
}

fn setup(n: usize) -> Setup {
    let secret = format!(
        "{}/tests/fixtures/identity/hs256.secret",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut running = Vec::new();
    let mut farms = Vec::new();
    let mut entries = String::new();
    for i in 0..n {
        let sim = FarmSim::new(FarmSimConfig::new(&format!("Farm{i}"), false));
        sim.add_session("CORP\\alice", "Notepad", "old-pc", false);
        sim.add_session("CORP\\alice", "Excel", "old-pc", false);
        let addr = free_addr();
        running.push(Running::spawn(standalone(
            sim.service(&addr.to_string()),
            None,
        )));
        assert!(wait_for_listener(addr, Duration::from_secs(10)));
        entries.push_str(&format!(
            "      - name: Farm{i}\n        brokers: [\"{addr}\"]\n        pre_xd7: false\n        health_check_interval_ms: 0\n"
        ));
        farms.push(sim);
    }
    let (listen, admin) = (free_addr(), free_addr());
    let yaml = format!(
        "listen: [\"{listen}\"]\nadmin_listen: \"{admin}\"\nthreads: 2\ngrace_period_seconds: 0\nsession_id_key_file: {secret}\nstores:\n  - path: /Citrix/Legacy\n    public_url: https://ws.example.com/Citrix/Legacy\n    identity:\n      jwt:\n        algorithm: HS256\n        key_file: {secret}\n      domain: CORP\n    farms:\n{entries}"
    );
    let config = sessiongate::config::from_yaml(&yaml, "bench").unwrap();
    running.push(Running::spawn(build(&config, None).unwrap()));
    assert!(wait_for_listener(listen, Duration::from_secs(10)));
    Setup {
        gateway: listen,
        farms,
        _running: running,
    }
}

fn request() -> Vec<u8> {
    let secret = sessiongate::identity::read_secret(std::path::Path::new(&format!(
        "{}/tests/fixtures/identity/hs256.secret",
        env!("CARGO_MANIFEST_DIR")
    )))
    .unwrap();
    let token = sessiongate::identity::mint_hs256(
        &secret,
        "CORP\\alice",
        None,
        Duration::from_secs(3600),
        &[],
    )
    .unwrap();
    let body = "<sessionparams xmlns=\"http://citrix.com/delivery-services/1-0/sessionparams\"><clientName>NEW-DEVICE</clientName></sessionparams>";
    format!(
        "POST /Citrix/Legacy/sessions/v1/available HTTP/1.1\r\nHost: bench\r\nAuthorization: CitrixAuth {token}\r\nAccept: application/vnd.citrix.sessionstate+xml\r\nContent-Type: application/vnd.citrix.sessionparams+xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Send one request on `conn` and read the whole answer; returns the body length.
fn roundtrip(conn: &mut BufReader<TcpStream>, req: &[u8]) -> usize {
    conn.get_mut().write_all(req).unwrap();
    let mut line = String::new();
    conn.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    let mut length = 0;
    loop {
        line.clear();
        conn.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    conn.read_exact(&mut body).unwrap();
    assert!(body.windows(9).any(|w| w == b"<session "));
    length
}

fn fan_out(c: &mut Criterion) {
    let req = request();
    for (group, delay) in [
        ("fanout_available", Duration::ZERO),
        ("fanout_available_farms_20ms", Duration::from_millis(20)),
    ] {
        let mut g = c.benchmark_group(group);
        g.sample_size(20);
        for n in [1usize, 2, 5] {
            let s = setup(n);
            for farm in &s.farms {
                farm.set_delay(delay);
            }
            let mut conn = BufReader::new(TcpStream::connect(s.gateway).unwrap());
            conn.get_ref().set_nodelay(true).unwrap();
            g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| roundtrip(&mut conn, &req))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
