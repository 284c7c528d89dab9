//! Unit tests of the window and the statistics, and simulations of whole windows of traffic
//! (seeded, so every run sees the same numbers; `--nocapture` prints the figures).

use super::*;

/// splitmix64: a small, seeded PRNG, good enough for simulated traffic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

const MS: Duration = Duration::from_millis(1);

fn settings() -> GuardSettings {
    GuardSettings::default()
}

/// One simulated window: `requests` spread evenly over the window, `canary_share` of them to the
/// canary, each failing at its pool's rate; the verdict at the end of the window.
fn one_window(
    guard: &Guard,
    rng: &mut Rng,
    requests: u32,
    canary_share: f64,
    (stable_rate, canary_rate): (f64, f64),
) -> Verdict {
    guard.reset();
    let t0 = Instant::now();
    let step = guard.settings().window / requests;
    let mut now = t0;
    for i in 0..requests {
        now = t0 + step * i;
        let (pool, rate) = if rng.chance(canary_share) {
            (PoolName::Canary, canary_rate)
        } else {
            (PoolName::Stable, stable_rate)
        };
        guard.record(pool, rng.chance(rate), 20 * MS, now);
    }
    guard.evaluate(now)
}

/// Rollbacks over `windows` independent windows at the given rates.
fn false_rollbacks(windows: u32, requests: u32, rates: (f64, f64), seed: u64) -> u32 {
    let guard = Guard::new(settings());
    let mut rng = Rng(seed);
    (0..windows)
        .filter(|_| one_window(&guard, &mut rng, requests, 0.05, rates) != Verdict::Keep)
        .count() as u32
}

#[test]
fn no_rollback_when_both_pools_fail_alike() {
    // 1,000 windows of 4,000 requests (5 % canary: about 200 canary requests, the minimum) and
    // 1,000 of 20,000, at 2 % and 10 % failures in both pools; alpha = 0.001.
    let alpha = settings().significance;
    let windows = 1_000;
    for requests in [4_000, 20_000] {
        for rate in [0.02, 0.10] {
            let n = false_rollbacks(windows, requests, (rate, rate), 42);
            let bound = (3.0 * alpha * f64::from(windows)).ceil() as u32;
            println!(
                "equal rates {:>2} %, {requests} requests/window: {n} false rollbacks in {windows} windows (bound {bound}, nominal {})",
                rate * 100.0,
                alpha * f64::from(windows)
            );
            assert!(n <= bound, "{n} false rollbacks at {rate}");
        }
    }
}

/// Canary requests seen until the first rollback, evaluating after every canary request.
fn requests_to_detect(guard: &Guard, rng: &mut Rng, stable_rate: f64, canary_rate: f64) -> u64 {
    guard.reset();
    let t0 = Instant::now();
    // 100 requests a second: the window (5 min) holds 30,000, far more than detection needs.
    for i in 0..1_000_000u32 {
        let now = t0 + 10 * MS * i;
        if rng.chance(0.05) {
            guard.record(PoolName::Canary, rng.chance(canary_rate), 20 * MS, now);
            if let Verdict::Rollback(e) = guard.evaluate(now) {
                assert_eq!(e.cause, RollbackCause::Errors);
                return e.canary.requests;
            }
        } else {
            guard.record(PoolName::Stable, rng.chance(stable_rate), 20 * MS, now);
        }
    }
    u64::MAX
}

fn median_to_detect(min_canary_requests: u64, canary_rate: f64, trials: u32) -> u64 {
    let guard = Guard::new(GuardSettings {
        min_canary_requests,
        ..settings()
    });
    let mut rng = Rng(7);
    let mut needed: Vec<u64> = (0..trials)
        .map(|_| requests_to_detect(&guard, &mut rng, 0.01, canary_rate))
        .collect();
    needed.sort_unstable();
    needed[needed.len() / 2]
}

#[test]
fn rollback_fires_when_the_canary_fails_more() {
    for (rate, min, most) in [
        (0.10, 200, 400),
        (0.50, 200, 200),
        (0.10, 20, 300),
        (0.50, 20, 40),
    ] {
        let median = median_to_detect(min, rate, 200);
        println!(
            "canary at {:>2} % vs stable 1 %, min_canary_requests {min}: median {median} canary requests to detect (200 trials)",
            rate * 100.0
        );
        assert!(median >= min && median <= most, "{rate}: {median}");
    }
}

#[test]
fn rollback_evidence_names_the_rates() {
    let g = Guard::new(settings());
    let t = Instant::now();
    for i in 0..1_000u64 {
        g.record(PoolName::Stable, i % 100 == 0, MS, t);
    }
    for i in 0..200u64 {
        g.record(PoolName::Canary, i % 2 == 0, MS, t);
    }
    let Verdict::Rollback(e) = g.evaluate(t) else {
        panic!("no rollback")
    };
    assert_eq!(e.cause, RollbackCause::Errors);
    assert_eq!(
        e.stable,
        Counts {
            requests: 1_000,
            failures: 10
        }
    );
    assert_eq!(
        e.canary,
        Counts {
            requests: 200,
            failures: 100
        }
    );
    assert_eq!((e.stable_rate, e.canary_rate), (0.01, 0.5));
    assert!(e.z > 10.0 && e.p_value < 1e-20, "{e:?}");
    assert_eq!(RollbackCause::Errors.as_str(), "errors");
    assert_eq!(RollbackCause::Latency.as_str(), "latency");
}

#[test]
fn min_canary_requests_is_respected_and_stable_is_needed() {
    let g = Guard::new(settings());
    let t = Instant::now();
    for _ in 0..1_000 {
        g.record(PoolName::Stable, false, MS, t);
    }
    // Every canary request fails, but 199 are below the minimum.
    for _ in 0..199 {
        g.record(PoolName::Canary, true, MS, t);
    }
    assert_eq!(g.evaluate(t), Verdict::Keep);
    g.record(PoolName::Canary, true, MS, t);
    assert!(matches!(g.evaluate(t), Verdict::Rollback(_)));
    // No stable requests (a 100 % share): nothing to compare with, keep.
    let g = Guard::new(settings());
    for _ in 0..1_000 {
        g.record(PoolName::Canary, true, MS, t);
    }
    assert_eq!(g.evaluate(t), Verdict::Keep);
    // Fewer stable requests than the minimum: keep.
    for _ in 0..199 {
        g.record(PoolName::Stable, false, MS, t);
    }
    assert_eq!(g.evaluate(t), Verdict::Keep);
}

#[test]
fn old_buckets_leave_the_window() {
    // 5 min in 10 buckets of 30 s.
    let g = Guard::new(settings());
    let t0 = Instant::now();
    g.record(PoolName::Canary, true, MS, t0);
    g.record(PoolName::Stable, false, MS, t0 + Duration::from_secs(100));
    assert_eq!(
        g.window(t0 + Duration::from_secs(299)),
        (
            Counts {
                requests: 1,
                failures: 0
            },
            Counts {
                requests: 1,
                failures: 1
            }
        )
    );
    // Tick 10 starts at 300 s: the first bucket (tick 0) is out.
    assert_eq!(
        g.window(t0 + Duration::from_secs(300)),
        (
            Counts {
                requests: 1,
                failures: 0
            },
            Counts::default()
        )
    );
    assert_eq!(
        g.window(t0 + Duration::from_secs(400)),
        (Counts::default(), Counts::default())
    );
    // Reusing a bucket slot clears it first.
    g.record(PoolName::Canary, false, MS, t0 + Duration::from_secs(600));
    assert_eq!(
        g.window(t0 + Duration::from_secs(600)),
        (
            Counts::default(),
            Counts {
                requests: 1,
                failures: 0
            }
        )
    );
    // A late report for a bucket already reused is dropped, not added to the new one.
    g.record(PoolName::Canary, true, MS, t0 + Duration::from_secs(10));
    assert_eq!(
        g.window(t0 + Duration::from_secs(600)).1,
        Counts {
            requests: 1,
            failures: 0
        }
    );
    // An instant before the origin counts in the first bucket; a window asked for in the past
    // sees nothing newer than itself.
    assert_eq!(g.window(t0).1, Counts::default());
}

#[test]
fn reset_forgets_everything() {
    let g = Guard::new(settings());
    let t = Instant::now();
    for _ in 0..500 {
        g.record(PoolName::Stable, false, MS, t);
        g.record(PoolName::Canary, true, MS, t);
    }
    assert!(matches!(g.evaluate(t), Verdict::Rollback(_)));
    g.reset();
    assert_eq!(g.window(t), (Counts::default(), Counts::default()));
    assert_eq!(g.evaluate(t), Verdict::Keep);
    // And it counts again from a new origin.
    g.record(PoolName::Canary, true, MS, t + Duration::from_secs(1_000));
    assert_eq!(g.window(t + Duration::from_secs(1_000)).1.requests, 1);
}

#[test]
fn degenerate_settings_do_not_panic() {
    let t = Instant::now();
    for (window, buckets) in [
        (Duration::ZERO, 0),
        (Duration::from_nanos(3), 10),
        (Duration::MAX, 1),
    ] {
        let g = Guard::new(GuardSettings {
            window,
            buckets,
            min_canary_requests: 0,
            latency_p99_margin: Some(Duration::ZERO),
            ..settings()
        });
        g.record(PoolName::Canary, true, Duration::MAX, t);
        g.record(
            PoolName::Stable,
            false,
            Duration::ZERO,
            t + Duration::from_secs(5),
        );
        let _ = g.evaluate(t + Duration::from_secs(10));
        let _ = g.p99(t);
    }
}

#[test]
fn latency_cause_when_canary_p99_exceeds_stable_plus_margin() {
    let g = Guard::new(GuardSettings {
        latency_p99_margin: Some(Duration::from_millis(200)),
        ..settings()
    });
    let t = Instant::now();
    for i in 0..1_000u32 {
        g.record(PoolName::Stable, false, MS * (10 + i % 90), t);
    }
    for i in 0..200u32 {
        g.record(PoolName::Canary, false, MS * (10 + i % 90), t);
    }
    assert_eq!(g.evaluate(t), Verdict::Keep, "same latencies");
    let (st, ca) = g.p99(t);
    assert_eq!(st, ca);
    // p99 of 10..100 ms: in the bin whose upper edge is 2^(27/4) ms = 107.6 ms.
    let st = st.unwrap();
    assert!(st >= MS * 99 && st < MS * 120, "{st:?}");
    // 5 % of canary requests now take 2 s: its p99 is far above stable's + 200 ms.
    for _ in 0..20 {
        g.record(PoolName::Canary, false, Duration::from_secs(2), t);
    }
    let Verdict::Rollback(e) = g.evaluate(t) else {
        panic!("no latency rollback")
    };
    assert_eq!(e.cause, RollbackCause::Latency);
    assert!(g.p99(t).1.unwrap() >= Duration::from_secs(2));
    // Without the margin set, latency is not watched.
    assert_eq!(Guard::new(settings()).p99(t), (None, None));
}

#[test]
fn latency_bins() {
    assert_eq!(latency_bin(Duration::ZERO), 0);
    assert_eq!(latency_bin(MS), 0);
    assert_eq!(latency_bin(MS * 2), 4);
    assert_eq!(latency_bin(Duration::MAX), BINS - 1);
    for ms in [1u64, 3, 10, 99, 1_000, 30_000] {
        let d = Duration::from_millis(ms);
        assert!(bin_upper(latency_bin(d)) >= d, "{ms}");
    }
}

#[test]
fn normal_tail_matches_known_values() {
    // scipy.stats.norm.sf and math.erfc.
    for (z, want) in [
        (0.0, 0.5),
        (1.0, 0.158_655_253_931_457_05),
        (1.959_963_984_540_054, 0.025),
        (3.090_232_306_167_813_6, 0.001),
        (5.0, 2.866_515_718_791_939e-7),
        (-1.0, 0.841_344_746_068_543),
    ] {
        let got = normal_sf(z);
        assert!(
            ((got - want) / want).abs() < 2e-7,
            "sf({z}) = {got}, want {want}"
        );
    }
    assert!((stats::erfc(2.0) - 0.004_677_734_981_047_266).abs() < 1e-9);
}

#[test]
fn z_test_edges() {
    let c = |requests, failures| Counts { requests, failures };
    assert_eq!(z_test(c(0, 0), c(10, 10)), (0.0, 1.0));
    assert_eq!(z_test(c(10, 0), c(10, 0)), (0.0, 1.0));
    assert_eq!(z_test(c(10, 10), c(10, 10)), (0.0, 1.0));
    // Canary better than stable: no evidence at all.
    let (z, p) = z_test(c(1_000, 100), c(200, 0));
    assert!(z == 0.0 && (p - 0.5).abs() < 1e-6, "{p}");
    // One canary failure against none in stable is not evidence (the continuity correction).
    assert!(z_test(c(3_800, 0), c(200, 1)).1 > 0.01);
}

#[test]
fn record_from_many_threads() {
    let g = std::sync::Arc::new(Guard::new(settings()));
    let t = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let g = g.clone();
            std::thread::spawn(move || {
                for i in 0..10_000u32 {
                    g.record(PoolName::ALL[(i % 2) as usize], i % 10 < 2, MS, t);
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    assert_eq!(
        g.window(t),
        (
            Counts {
                requests: 20_000,
                failures: 4_000
            },
            Counts {
                requests: 20_000,
                failures: 4_000
            }
        )
    );
}
