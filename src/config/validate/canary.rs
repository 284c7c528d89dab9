//! The pools of a StoreFront store: weighted servers, the HTTP health check, and the canary
//! (share, launch key, forced pool, rollback guard).

use std::time::Duration;

use super::{addresses, normalize_path, timeout};
use crate::config::error::Issues;
use crate::config::file::{
    CanaryConfig, ForceConfig, GuardFileConfig, HealthCheckConfig, UpstreamConfig,
};
use crate::config::runtime::{Canary, Force, GuardConfig, HttpCheck};

/// Largest weight of a server: Pingora's weighted selection expands each server `weight` times.
const MAX_WEIGHT: u32 = 100;
/// Largest number of consecutive checks asked for: beyond it a server never changes state.
const MAX_CONSECUTIVE: usize = 100;

/// The servers of a pool and their weights.
pub(super) fn weighted(
    key: &str,
    entries: &[UpstreamConfig],
    issues: &mut Issues,
) -> (Vec<String>, Vec<u32>) {
    let addrs: Vec<String> = entries.iter().map(|e| e.addr().to_string()).collect();
    let addrs = addresses(key, &addrs, "StoreFront servers", issues);
    for (j, e) in entries.iter().enumerate() {
        if !(1..=MAX_WEIGHT).contains(&e.weight()) {
            issues.push(
                format!("{key}[{j}].weight"),
                format!("{} is out of range", e.weight()),
                format!("use 1 to {MAX_WEIGHT}"),
            );
        }
    }
    (addrs, entries.iter().map(UpstreamConfig::weight).collect())
}

/// An HTTP health check.
pub(super) fn health_check(key: &str, c: &HealthCheckConfig, issues: &mut Issues) -> HttpCheck {
    let path = normalize_path(&format!("{key}.path"), &c.path, issues).unwrap_or_default();
    if !(100..=599).contains(&c.status) {
        issues.push(
            format!("{key}.status"),
            format!("{} is not an HTTP status", c.status),
            "use the status a healthy server answers, e.g. 200",
        );
    }
    let interval = timeout(format!("{key}.interval_ms"), c.interval_ms, issues);
    let check_timeout = timeout(format!("{key}.timeout_ms"), c.timeout_ms, issues);
    if check_timeout > interval {
        issues.push(
            format!("{key}.timeout_ms"),
            "is longer than interval_ms",
            "let a check finish before the next one starts: timeout_ms <= interval_ms",
        );
    }
    for (name, n) in [("failures", c.failures), ("successes", c.successes)] {
        if !(1..=MAX_CONSECUTIVE).contains(&n) {
            issues.push(
                format!("{key}.{name}"),
                format!("{n} is out of range"),
                format!("use 1 to {MAX_CONSECUTIVE} consecutive checks"),
            );
        }
    }
    HttpCheck {
        path,
        status: c.status,
        interval,
        timeout: check_timeout,
        failures: c.failures,
        successes: c.successes,
    }
}

/// The canary pool; `stable_check` is the stable pool's HTTP check, its default.
pub(super) fn canary(
    key: &str,
    c: &CanaryConfig,
    stable_check: Option<&HttpCheck>,
    issues: &mut Issues,
) -> Canary {
    let (upstreams, weights) = weighted(&format!("{key}.upstreams"), &c.upstreams, issues);
    let health_check = match &c.health_check {
        Some(h) => Some(health_check(&format!("{key}.health_check"), h, issues)),
        None => stable_check.cloned(),
    };
    if !c.share.is_finite() || !(0.0..=100.0).contains(&c.share) {
        issues.push(
            format!("{key}.share"),
            format!("{} is not a percentage", c.share),
            "use 0 to 100 (fractions allowed, e.g. 0.5)",
        );
    }
    if c.launch_key_file.is_empty() {
        issues.push(
            format!("{key}.launch_key_file"),
            "is empty",
            "create one with `head -c 32 /dev/urandom | base64 > /etc/sessiongate/launch-tag.key` and name it here; give every gateway instance the same file",
        );
    }
    Canary {
        upstreams,
        weights,
        health_check,
        share_percent: c.share,
        launch_key_file: c.launch_key_file.clone().into(),
        force: c
            .force
            .as_ref()
            .map(|f| force(&format!("{key}.force"), f, issues)),
        guard: guard(&format!("{key}.guard"), &c.guard, issues),
    }
}

/// The forced-pool header or cookie and the networks it is honoured from.
fn force(key: &str, f: &ForceConfig, issues: &mut Issues) -> Force {
    if f.header.is_none() && f.cookie.is_none() {
        issues.push(
            key,
            "names neither a header nor a cookie",
            "set header: (e.g. X-Sessiongate-Pool) or cookie: (e.g. sessiongate_pool), or remove force:",
        );
    }
    if let Some(h) = &f.header {
        if h.is_empty() || http::HeaderName::from_bytes(h.as_bytes()).is_err() {
            issues.push(
                format!("{key}.header"),
                format!("`{h}` is not a header name"),
                "use a token such as X-Sessiongate-Pool",
            );
        }
    }
    if let Some(c) = &f.cookie {
        let ok = !c.is_empty()
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !ok {
            issues.push(
                format!("{key}.cookie"),
                format!("`{c}` is not a cookie name"),
                "use letters, digits, - _ and ., e.g. sessiongate_pool",
            );
        }
    }
    if f.trusted.is_empty() {
        issues.push(
            format!("{key}.trusted"),
            "is empty, so forcing would never be honoured",
            "list the networks operators test from, e.g. [\"10.1.0.0/16\"]",
        );
    }
    let trusted = super::networks(&format!("{key}.trusted"), &f.trusted, issues);
    Force {
        header: f.header.as_ref().map(|h| h.to_ascii_lowercase()),
        cookie: f.cookie.clone(),
        trusted,
    }
}

/// The rollback guard's settings; `None` when turned off.
fn guard(key: &str, g: &GuardFileConfig, issues: &mut Issues) -> Option<GuardConfig> {
    // A window of a day at most: the guard keeps only bucket counts, but a longer window
    // reacts too late to be a guard.
    if !(1_000..=86_400_000).contains(&g.window_ms) {
        issues.push(
            format!("{key}.window_ms"),
            format!("{} ms is out of range", g.window_ms),
            "use 1000 to 86400000 milliseconds (5 minutes is a good start)",
        );
    }
    if !(1..=600).contains(&g.buckets) {
        issues.push(
            format!("{key}.buckets"),
            format!("{} is out of range", g.buckets),
            "use 1 to 600 (10 is a good start)",
        );
    }
    if !(g.significance.is_finite() && g.significance > 0.0 && g.significance < 0.5) {
        issues.push(
            format!("{key}.significance"),
            format!("{} is not a significance level", g.significance),
            "use a small probability, e.g. 0.001 (lower: fewer false rollbacks, slower detection)",
        );
    }
    if g.min_canary_requests == 0 {
        issues.push(
            format!("{key}.min_canary_requests"),
            "is 0, so one failed request could roll back",
            "use at least 20 (200 is a good start)",
        );
    }
    let margin = g
        .latency_p99_margin_ms
        .map(|ms| timeout(format!("{key}.latency_p99_margin_ms"), ms, issues));
    g.enabled.then(|| GuardConfig {
        window: Duration::from_millis(g.window_ms),
        buckets: g.buckets,
        significance: g.significance,
        min_canary_requests: g.min_canary_requests,
        latency_p99_margin: margin,
    })
}
