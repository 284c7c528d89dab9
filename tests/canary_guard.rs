//! The rollback guard as wired: fed by every finished request of a canary store and tested once
//! per bucket (`Rollout::record`).
//!
//! Two kinds of test, on purpose:
//! - **synthetic time, library level** (`continuous_traffic_*`): the public `Rollout` driven
//!   with simulated requests and simulated clocks, at the documented defaults (5 min window,
//!   10 buckets, alpha 0.001, 200 canary requests) over 1,000 window lengths of continuous
//!   traffic per case. This is where the false-alarm and time-to-detect figures come from
//!   (`--nocapture` prints them). No socket is involved.
//! - **real sockets, modest size** (`*_through_the_gateway`): the gateway in front of two
//!   simulated pools with a short window (1 s in 4 buckets, 30 canary requests minimum). One run
//!   where the canary answers 500 (the guard fires, the share drops to 0 and stays there, the
//!   metrics say so), and one run of about 1,500 requests per rate where both pools fail alike at
//!   2 % and at 10 % (a handful of windows, so it checks the wiring more than the statistics).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::canary::*;
use common::*;

use std::time::{Duration, Instant};

use sessiongate::config::Force;
use sessiongate::routing::canary::{ClientKey, Guard, GuardSettings, PoolName, Share, TagKey};
use sessiongate::routing::rollout::{Rollout, RolloutState};
use sessiongate::sim::storefront::Fault;

/// splitmix64, seeded: every run sees the same traffic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

const SHARE: f64 = 5.0;

fn rollout() -> Rollout {
    Rollout::new(
        Share::from_percent(SHARE).unwrap(),
        None::<Force>,
        TagKey::new(&[1; 32]).unwrap(),
        Some(Guard::new(GuardSettings::default())),
    )
}

/// What a continuous run saw.
struct Run {
    rollbacks: u32,
    /// Canary requests in the guard's window at each rollback.
    canary_at_rollback: Vec<u64>,
    evaluations: u64,
}

/// `windows` window lengths of continuous traffic, `per_window` requests each spread evenly,
/// clients drawn at random and split by the rollout; after a rollback an operator resumes at once.
fn run(windows: u32, per_window: u32, (stable_rate, canary_rate): (f64, f64), seed: u64) -> Run {
    let r = rollout();
    let settings = GuardSettings::default();
    let step = settings.window / per_window;
    let mut rng = Rng(seed);
    let t0 = Instant::now();
    let mut out = Run {
        rollbacks: 0,
        canary_at_rollback: Vec::new(),
        evaluations: u64::from(windows) * u64::from(settings.buckets),
    };
    for i in 0..u64::from(windows) * u64::from(per_window) {
        let now = t0 + step * u32::try_from(i).unwrap();
        let key = ClientKey::from_bytes(&rng.next().to_le_bytes());
        let pool = r.choose(key);
        let rate = match pool {
            PoolName::Stable => stable_rate,
            PoolName::Canary => canary_rate,
        };
        let failed = rng.chance(rate);
        if let Some(e) = r.record(pool, failed, Duration::from_millis(20), now) {
            out.rollbacks += 1;
            out.canary_at_rollback.push(e.canary.requests);
            assert_eq!(r.state(), RolloutState::RolledBack);
            r.set_share(Share::from_percent(SHARE).unwrap());
        }
    }
    out
}

#[test]
fn continuous_traffic_at_equal_failure_rates_keeps_the_canary() {
    // 1,000 window lengths (about 10,000 tests, one per bucket) per case, 4,000 requests per
    // window (about 200 to the canary: the minimum) at 2 % and 10 % in both pools.
    for rate in [0.02, 0.10] {
        let run = run(1_000, 4_000, (rate, rate), 7);
        let alpha = GuardSettings::default().significance;
        let nominal = alpha * run.evaluations as f64;
        eprintln!(
            "equal rates {:>2} %: {} false rollbacks in 1000 windows ({} tests, nominal {nominal:.0} at alpha {alpha} per test)",
            rate * 100.0,
            run.rollbacks,
            run.evaluations
        );
        assert!(
            f64::from(run.rollbacks) <= 3.0 * nominal,
            "{} false rollbacks at {rate}",
            run.rollbacks
        );
    }
}

#[test]
fn continuous_traffic_detects_a_failing_canary() {
    // 1 % stable against 10 % and 50 % canary: every run window rolls back, after the minimum.
    for canary_rate in [0.10, 0.50] {
        let run = run(20, 4_000, (0.01, canary_rate), 11);
        let first = run.canary_at_rollback.first().copied().unwrap_or(0);
        eprintln!(
            "canary failing at {:>2} % (stable 1 %): {} rollbacks in 20 windows, {first} canary requests in the window at the first",
            canary_rate * 100.0,
            run.rollbacks
        );
        assert!(run.rollbacks >= 10, "{canary_rate}: {}", run.rollbacks);
        assert!(
            first >= GuardSettings::default().min_canary_requests,
            "never before the minimum"
        );
    }
}

/// A canary store at 50 % with a short guard window (1 s in 4 buckets, 30 canary requests
/// minimum, alpha `significance`).
fn guarded(pools: &Pools, name: &str, significance: f64) -> Gateway {
    let guard = format!(
        "        guard: {{window_ms: 1000, buckets: 4, significance: {significance}, min_canary_requests: 30}}\n"
    );
    Gateway::start_with_stores(&named(
        name,
        &canary_store(
            &[pools.stable.addr],
            &[pools.canary.addr],
            50.0,
            "      health_check_interval_ms: 0\n",
            &guard,
        ),
    ))
}

#[test]
fn rollback_fires_when_the_canary_answers_500s_through_the_gateway() {
    let pools = Pools::demo();
    let gw = guarded(&pools, "failing", 0.001);
    pools.canary.sim.set_fault(Some(Fault::Status(500)));
    let rollbacks = "sessiongate_canary_rollbacks_total{cause=\"errors\",store=\"failing\"}";
    let started = Instant::now();
    let (mut sent, mut canary_sent) = (0, 0);
    while started.elapsed() < Duration::from_secs(20) && !gw.metrics().contains(rollbacks) {
        for _ in 0..20 {
            sent += 1;
            let (who, r) = pools.answered(|| list_for(&gw, &format!("device-{sent}")));
            if who == Answered::Canary {
                canary_sent += 1;
                assert_eq!(r.status, 500);
            }
        }
    }
    eprintln!(
        "rolled back after {sent} requests ({canary_sent} to the failing canary) in {:?}",
        started.elapsed()
    );
    assert_eq!(gw.metric(rollbacks, 1.0), 1.0, "the guard fired");
    // Share 0 from now on: every client is served by stable, until an operator says otherwise.
    for i in 0..50 {
        let (who, r) = pools.answered(|| list_for(&gw, &format!("after-{i}")));
        assert_eq!((who, r.status), (Answered::Stable, 200));
    }
    assert_eq!(
        gw.metric("sessiongate_canary_share_percent{store=\"failing\"}", 0.0),
        0.0
    );
    let text = gw.metrics();
    for sample in [
        "sessiongate_requests_total{operation=\"available\",pool=\"canary\",status_class=\"5xx\",store=\"failing\"}",
        "sessiongate_requests_total{operation=\"available\",pool=\"stable\",status_class=\"2xx\",store=\"failing\"}",
        "sessiongate_request_duration_seconds_count{operation=\"available\",pool=\"canary\",store=\"failing\"}",
        "sessiongate_upstream_duration_seconds_count{pool=\"canary\",store=\"failing\"}",
        &format!("sessiongate_backend_up{{backend=\"{}\",pool=\"canary\",store=\"failing\"}} 1", pools.canary.addr),
        &format!("sessiongate_backend_up{{backend=\"{}\",pool=\"stable\",store=\"failing\"}} 1", pools.stable.addr),
    ] {
        assert!(text.contains(sample), "{sample} in {text}");
    }
}

fn list_for(gw: &Gateway, device: &str) -> Response {
    available(gw, ALICE, &device_params(device))
}

#[test]
fn no_rollback_at_equal_failure_rates_through_the_gateway() {
    let pools = Pools::demo();
    // alpha 1e-4: a few windows of real time, each tested four times.
    let gw = guarded(&pools, "alike", 0.0001);
    let mut rng = Rng(3);
    let (mut sent, mut failed) = (0, 0);
    for rate in [0.02, 0.10] {
        for _ in 0..1_500 {
            sent += 1;
            // Whichever pool the client lands in fails with the same chance.
            let fail = rng.chance(rate);
            let fault = fail.then_some(Fault::Status(500));
            pools.stable.sim.set_fault(fault.clone());
            pools.canary.sim.set_fault(fault);
            let r = list_for(&gw, &format!("device-{sent}"));
            assert_eq!(r.status, if fail { 500 } else { 200 });
            failed += usize::from(fail);
        }
    }
    eprintln!("{sent} requests, {failed} failed, both pools alike");
    // Every request counted (so every one reached the guard) before looking for a rollback.
    let counted = |t: &String| -> f64 {
        t.lines()
            .filter(|l| {
                l.starts_with("sessiongate_requests_total{") && l.contains("store=\"alike\"")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let text = poll_until(
        Duration::from_secs(2),
        || gw.metrics(),
        |t| counted(t) == f64::from(sent),
    );
    assert_eq!(counted(&text), f64::from(sent));
    assert!(
        !text.contains("sessiongate_canary_rollbacks_total{cause=\"errors\",store=\"alike\"}"),
        "no rollback: {text}"
    );
    assert_eq!(
        gw.metric("sessiongate_canary_share_percent{store=\"alike\"}", 50.0),
        50.0
    );
}
