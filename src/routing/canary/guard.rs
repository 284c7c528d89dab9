//! The rollback guard: rolls the canary back only when it is worse than stable with confidence.
//!
//! Each store's guard counts finished requests and failures (5xx answers, upstream errors) of
//! both pools in a sliding window of `buckets` time buckets covering `window`; the bucket being
//! filled is part of the window, so a verdict looks at between `(buckets-1)/buckets` and all of
//! `window` of history. Time is passed in, never read, so the guard is pure and tested by
//! simulation.
//!
//! [`Guard::evaluate`] runs a one-sided two-proportion z-test with pooled variance and a
//! continuity correction, H0 "the canary fails no more often than stable", H1 "it fails more
//! often", and rolls back when p < `significance`, provided both pools served at least
//! `min_canary_requests` requests in the window (and at least one each). With fewer stable
//! requests there is nothing trustworthy to compare with, so the verdict is Keep: at a 100 %
//! share the guard never fires. The continuity correction (subtracting half a request of each
//! pool from the difference) matters when failures are rare: without it one canary failure
//! against no stable failure already gives z above 4 with 200 canary requests; with it the test
//! keeps close to its nominal false-alarm rate (see `docs/canary.md` for the measured figures).
//!
//! Trade-off: a lower significance cries wolf less often but needs more canary requests to
//! detect a bad canary; `min_canary_requests` is a floor on time to detect. `evaluate` may be
//! called as often as wiring likes, but every call on an overlapping window is another chance
//! for a false alarm: calling it once per bucket is enough.
//!
//! Optional latency cause: with `latency_p99_margin` set, each bucket also keeps a fixed
//! histogram of latencies per pool (64 bins, about 19 % wide, 1 ms to 55 s: bounded memory), and
//! the guard rolls back when the canary's p99 exceeds stable's p99 by more than the margin, under
//! the same request minimums. This is a plain comparison of quantiles (resolution one bin), not a
//! test: choose the margin well above one bin's width.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::PoolName;

mod stats;
pub use stats::{normal_sf, z_test};

/// Settings of one store's guard.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardSettings {
    /// Sliding window length (e.g. 5 min).
    pub window: Duration,
    /// Window granularity (e.g. 10); 0 counts as 1.
    pub buckets: u32,
    /// One-sided alpha (e.g. 0.001).
    pub significance: f64,
    /// No verdict below this many canary requests (nor stable requests) in the window.
    pub min_canary_requests: u64,
    /// Optional: roll back when canary p99 is worse than stable p99 by more than this.
    pub latency_p99_margin: Option<Duration>,
}

impl Default for GuardSettings {
    /// The documented defaults: 5 min in 10 buckets, alpha 0.001, 200 canary requests.
    fn default() -> GuardSettings {
        GuardSettings {
            window: Duration::from_secs(300),
            buckets: 10,
            significance: 0.001,
            min_canary_requests: 200,
            latency_p99_margin: None,
        }
    }
}

/// Requests and failures of one pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub requests: u64,
    pub failures: u64,
}

impl Counts {
    /// Failures per request; 0 with no requests.
    pub fn rate(self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.failures as f64 / self.requests as f64
        }
    }

    fn add(&mut self, other: Counts) {
        self.requests += other.requests;
        self.failures += other.failures;
    }
}

/// Why the canary was rolled back, with the window's figures (for the log line and metrics).
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub cause: RollbackCause,
    pub stable: Counts,
    pub canary: Counts,
    pub stable_rate: f64,
    pub canary_rate: f64,
    /// The error test's statistic and p-value (also filled for a latency rollback).
    pub z: f64,
    pub p_value: f64,
}

/// What made the guard roll back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackCause {
    Errors,
    Latency,
}

impl RollbackCause {
    /// The metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RollbackCause::Errors => "errors",
            RollbackCause::Latency => "latency",
        }
    }
}

/// The guard's decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Keep,
    Rollback(Evidence),
}

/// Latency histogram bins: bin `i` holds latencies up to 1 ms × 2^(i/4).
const BINS: usize = 64;
/// Bins per doubling of latency.
const BINS_PER_OCTAVE: f64 = 4.0;

/// One pool's figures in one bucket.
#[derive(Clone)]
struct PoolBucket {
    counts: Counts,
    latency: [u32; BINS],
}

impl Default for PoolBucket {
    fn default() -> PoolBucket {
        PoolBucket {
            counts: Counts::default(),
            latency: [0; BINS],
        }
    }
}

/// One time bucket: which tick it holds and both pools' figures.
#[derive(Clone, Default)]
struct Bucket {
    tick: u64,
    stable: PoolBucket,
    canary: PoolBucket,
}

impl Bucket {
    fn pool(&mut self, pool: PoolName) -> &mut PoolBucket {
        match pool {
            PoolName::Stable => &mut self.stable,
            PoolName::Canary => &mut self.canary,
        }
    }
}

struct Inner {
    /// The instant tick 0 starts at: the first one seen after creation or reset.
    origin: Option<Instant>,
    /// Ring of buckets, indexed by tick modulo its length; a bucket whose tick is older than the
    /// window is stale and counts for nothing.
    buckets: Vec<Bucket>,
}

/// One store's rollback guard. Send + Sync; `record` is cheap (one short-held lock).
pub struct Guard {
    settings: GuardSettings,
    bucket_nanos: u128,
    inner: Mutex<Inner>,
}

/// Sums over the buckets inside the window.
struct WindowSums {
    stable: PoolBucket,
    canary: PoolBucket,
}

impl Guard {
    pub fn new(settings: GuardSettings) -> Guard {
        let n = settings.buckets.max(1);
        // At least 1 ns per bucket, so a zero window cannot divide by zero.
        let bucket_nanos = (settings.window.as_nanos() / u128::from(n)).max(1);
        Guard {
            settings,
            bucket_nanos,
            inner: Mutex::new(Inner {
                origin: None,
                buckets: vec![Bucket::default(); n as usize],
            }),
        }
    }

    pub fn settings(&self) -> &GuardSettings {
        &self.settings
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The data stays consistent whatever a panicking holder did (plain counters).
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn tick(&self, origin: Instant, now: Instant) -> u64 {
        let t = now.saturating_duration_since(origin).as_nanos() / self.bucket_nanos;
        u64::try_from(t).unwrap_or(u64::MAX)
    }

    /// One finished request of `pool`: failed = 5xx answer or upstream error.
    pub fn record(&self, pool: PoolName, failed: bool, latency: Duration, now: Instant) {
        let bin = self
            .settings
            .latency_p99_margin
            .is_some()
            .then(|| latency_bin(latency));
        let mut inner = self.lock();
        let origin = *inner.origin.get_or_insert(now);
        let tick = self.tick(origin, now);
        let len = inner.buckets.len() as u64;
        let Some(bucket) = inner.buckets.get_mut((tick % len) as usize) else {
            return;
        };
        if bucket.tick < tick {
            *bucket = Bucket {
                tick,
                ..Bucket::default()
            };
        } else if bucket.tick > tick {
            // A late report for a bucket already reused: older than the window, drop it.
            return;
        }
        let p = bucket.pool(pool);
        p.counts.requests += 1;
        p.counts.failures += u64::from(failed);
        if let Some(slot) = bin.and_then(|b| p.latency.get_mut(b)) {
            *slot = slot.saturating_add(1);
        }
    }

    fn sums(&self, now: Instant) -> WindowSums {
        let mut sums = WindowSums {
            stable: PoolBucket::default(),
            canary: PoolBucket::default(),
        };
        let inner = self.lock();
        let Some(origin) = inner.origin else {
            return sums;
        };
        let current = self.tick(origin, now);
        let len = inner.buckets.len() as u64;
        for b in &inner.buckets {
            // A bucket is in the window when its tick is one of the last `len` ticks. An empty
            // bucket with tick 0 adds nothing, so "never used" needs no flag.
            if b.tick <= current && current - b.tick < len {
                for (sum, part) in [(&mut sums.stable, &b.stable), (&mut sums.canary, &b.canary)] {
                    sum.counts.add(part.counts);
                    for (s, v) in sum.latency.iter_mut().zip(part.latency.iter()) {
                        *s = s.saturating_add(*v);
                    }
                }
            }
        }
        sums
    }

    /// (stable, canary) requests and failures in the window ending at `now`.
    pub fn window(&self, now: Instant) -> (Counts, Counts) {
        let s = self.sums(now);
        (s.stable.counts, s.canary.counts)
    }

    /// (stable, canary) p99 latency in the window (upper edge of its histogram bin), when latency
    /// is watched and the pool has requests.
    pub fn p99(&self, now: Instant) -> (Option<Duration>, Option<Duration>) {
        if self.settings.latency_p99_margin.is_none() {
            return (None, None);
        }
        let s = self.sums(now);
        (p99(&s.stable.latency), p99(&s.canary.latency))
    }

    /// Roll back or keep, from the window ending at `now` (see the module doc).
    pub fn evaluate(&self, now: Instant) -> Verdict {
        let s = self.sums(now);
        let (stable, canary) = (s.stable.counts, s.canary.counts);
        let min = self.settings.min_canary_requests.max(1);
        if canary.requests < min || stable.requests < min {
            return Verdict::Keep;
        }
        let (z, p_value) = z_test(stable, canary);
        let evidence = |cause| Evidence {
            cause,
            stable,
            canary,
            stable_rate: stable.rate(),
            canary_rate: canary.rate(),
            z,
            p_value,
        };
        if p_value < self.settings.significance {
            return Verdict::Rollback(evidence(RollbackCause::Errors));
        }
        if let Some(margin) = self.settings.latency_p99_margin {
            if let (Some(st), Some(ca)) = (p99(&s.stable.latency), p99(&s.canary.latency)) {
                if ca > st.saturating_add(margin) {
                    return Verdict::Rollback(evidence(RollbackCause::Latency));
                }
            }
        }
        Verdict::Keep
    }

    /// Forget everything (on resume or a share change: the old figures describe other clients).
    pub fn reset(&self) {
        let mut inner = self.lock();
        inner.origin = None;
        for b in inner.buckets.iter_mut() {
            *b = Bucket::default();
        }
    }
}

/// The histogram bin of a latency: 0 up to 1 ms, then 4 bins per doubling, the last open-ended.
fn latency_bin(latency: Duration) -> usize {
    let ms = latency.as_secs_f64() * 1000.0;
    if ms <= 1.0 {
        return 0;
    }
    // Finite and positive here; the float-to-int cast saturates.
    ((ms.log2() * BINS_PER_OCTAVE).ceil() as usize).min(BINS - 1)
}

/// The upper edge of bin `i`.
fn bin_upper(i: usize) -> Duration {
    Duration::from_secs_f64(0.001 * (i as f64 / BINS_PER_OCTAVE).exp2())
}

/// The 99th percentile of a histogram, as its bin's upper edge; `None` when empty.
fn p99(hist: &[u32; BINS]) -> Option<Duration> {
    let total: u64 = hist.iter().map(|&c| u64::from(c)).sum();
    if total == 0 {
        return None;
    }
    // The smallest bin holding the ceil(0.99 n)-th latency.
    let rank = (total * 99).div_ceil(100);
    let mut seen = 0;
    for (i, &c) in hist.iter().enumerate() {
        seen += u64::from(c);
        if seen >= rank {
            return Some(bin_upper(i));
        }
    }
    Some(bin_upper(BINS - 1))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests;
