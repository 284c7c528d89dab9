//! The rollback guard's figures for `docs/canary.md`: how often it cries wolf when the canary is
//! no worse than stable, and how many canary requests it needs to catch one that is.
//!
//! `cargo run --release --example guard_figures`
//!
//! Traffic is simulated with a seeded PRNG (the same figures every run): 5 % of requests go to
//! the canary, each request fails at its pool's rate, and the guard has the documented defaults
//! (5 min window in 10 buckets, alpha 0.001, 200 canary requests minimum) unless stated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use sessiongate::routing::canary::{Guard, GuardSettings, PoolName, Verdict};

/// splitmix64: a small, seeded PRNG.
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

const CANARY_SHARE: f64 = 0.05;
const LATENCY: Duration = Duration::from_millis(20);

/// Rollbacks over `windows` independent windows of `requests` each, both pools failing at `rate`.
fn false_rollbacks(settings: &GuardSettings, windows: u32, requests: u32, rate: f64) -> u32 {
    let guard = Guard::new(settings.clone());
    let mut rng = Rng(42);
    let step = settings.window / requests;
    let mut alarms = 0;
    for _ in 0..windows {
        guard.reset();
        let t0 = Instant::now();
        let mut now = t0;
        for i in 0..requests {
            now = t0 + step * i;
            let pool = if rng.chance(CANARY_SHARE) {
                PoolName::Canary
            } else {
                PoolName::Stable
            };
            guard.record(pool, rng.chance(rate), LATENCY, now);
        }
        alarms += u32::from(guard.evaluate(now) != Verdict::Keep);
    }
    alarms
}

/// Canary requests until the first rollback (evaluating after each canary request), at 100
/// requests a second; `None` when not detected within 100,000 canary requests.
fn to_detect(guard: &Guard, rng: &mut Rng, stable_rate: f64, canary_rate: f64) -> Option<u64> {
    guard.reset();
    let t0 = Instant::now();
    for i in 0..2_000_000u32 {
        let now = t0 + Duration::from_millis(10) * i;
        if rng.chance(CANARY_SHARE) {
            guard.record(PoolName::Canary, rng.chance(canary_rate), LATENCY, now);
            if let Verdict::Rollback(e) = guard.evaluate(now) {
                return Some(e.canary.requests);
            }
        } else {
            guard.record(PoolName::Stable, rng.chance(stable_rate), LATENCY, now);
        }
    }
    None
}

fn print_false_alarms(base: &GuardSettings) {
    const WINDOWS: u32 = 10_000;
    println!("## False rollbacks at equal failure rates ({WINDOWS} independent windows each)");
    println!(
        "| alpha | requests/window (canary ≈ 5 %) | both pools fail | rollbacks | rate | nominal |"
    );
    println!("|---|---|---|---|---|---|");
    for significance in [0.001, 0.01] {
        let settings = GuardSettings {
            significance,
            ..base.clone()
        };
        for requests in [4_000, 20_000] {
            for rate in [0.02, 0.10] {
                let n = false_rollbacks(&settings, WINDOWS, requests, rate);
                println!(
                    "| {significance} | {requests} | {:.0} % | {n} | {:.4} | {significance} |",
                    rate * 100.0,
                    f64::from(n) / f64::from(WINDOWS)
                );
            }
        }
    }
}

fn print_time_to_detect(base: &GuardSettings) {
    const TRIALS: usize = 1_000;
    println!();
    println!("## Canary requests to detect a bad canary against a 1 % stable ({TRIALS} trials)");
    println!("| alpha | min_canary_requests | canary fails | median | p90 | max |");
    println!("|---|---|---|---|---|---|");
    for (significance, min) in [(0.001, 200), (0.001, 20), (0.0001, 20)] {
        let guard = Guard::new(GuardSettings {
            significance,
            min_canary_requests: min,
            ..base.clone()
        });
        for rate in [0.10, 0.50] {
            let mut rng = Rng(7);
            let mut needed: Vec<u64> = (0..TRIALS)
                .map(|_| to_detect(&guard, &mut rng, 0.01, rate).unwrap_or(u64::MAX))
                .collect();
            needed.sort_unstable();
            println!(
                "| {significance} | {min} | {:.0} % | {} | {} | {} |",
                rate * 100.0,
                needed[TRIALS / 2],
                needed[TRIALS * 9 / 10],
                needed[TRIALS - 1]
            );
        }
    }
}

fn main() {
    let base = GuardSettings::default();
    println!("guard: {base:?}, canary share {CANARY_SHARE}");
    println!();
    print_false_alarms(&base);
    print_time_to_detect(&base);
}
