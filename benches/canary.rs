//! The canary split decision: `ClientKey::derive` + `choose`, per key source (target < 100 ns).
//!
//! `cargo bench --bench canary -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{criterion_group, criterion_main, Criterion};
use sessiongate::routing::canary::{choose, ClientKey, Share};

fn split(c: &mut Criterion) {
    let share = Share::from_percent(5.0).unwrap();
    // A Workspace app deviceId is a GUID-like string of 30-40 characters.
    let device = "WR_7c2b0e4a-91d3-4f1e-b6a2-0c5d9e8f7a61";
    let name = "LAPTOP-8F3K2Q1";
    // A CitrixAuth token is a few hundred characters.
    let token = "x".repeat(400);
    let addr = IpAddr::V4(Ipv4Addr::new(10, 20, 30, 40));
    let mut g = c.benchmark_group("canary_split");
    g.bench_function("device_id", |b| {
        b.iter(|| {
            let (k, _) = ClientKey::derive(black_box(Some(device)), None, None, Some(addr));
            choose(black_box(share), k)
        })
    });
    g.bench_function("client_name", |b| {
        b.iter(|| {
            let (k, _) = ClientKey::derive(None, black_box(Some(name)), None, Some(addr));
            choose(black_box(share), k)
        })
    });
    g.bench_function("token_400", |b| {
        b.iter(|| {
            let (k, _) = ClientKey::derive(None, None, black_box(Some(&token)), Some(addr));
            choose(black_box(share), k)
        })
    });
    g.bench_function("address", |b| {
        b.iter(|| {
            let (k, _) = ClientKey::derive(None, None, None, black_box(Some(addr)));
            choose(black_box(share), k)
        })
    });
    g.bench_function("cookie", |b| {
        let cookie = ClientKey::from_bytes(b"x").to_cookie();
        b.iter(|| ClientKey::from_cookie(black_box(&cookie)).map(|k| choose(share, k)))
    });
    g.finish();
}

criterion_group!(benches, split);
criterion_main!(benches);
