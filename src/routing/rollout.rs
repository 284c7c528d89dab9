//! The live canary of one store: the current share (an atomic, changed by the guard and by
//! operators, never by editing the immutable configuration), the launch-tag key, the forced-pool
//! rule, and the guard. Pure decisions on what a request carries; no I/O (time is passed in).
//!
//! The admin listener reads and sets the share through [`Rollout::share`],
//! [`Rollout::set_share`], [`Rollout::state`], [`Rollout::window`] and
//! [`Rollout::last_rollback`]; the proxy asks [`Rollout::forced`] and [`Rollout::choose`] per
//! request and reports every finished request with [`Rollout::record`], which runs the guard's
//! test at most once per bucket (every test on an overlapping window is another chance of a
//! false alarm, see `canary::guard`).

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use http::HeaderMap;

use super::canary::{
    choose, open, seal, ClientKey, Counts, Evidence, Guard, PoolName, Share, TagKey, Verdict,
};
use crate::config::{Force, Store};

/// Query parameter of a launch URL that carries the launch tag.
pub const LAUNCH_TAG_PARAM: &str = "pool_tag";
/// Longest forced-pool value looked at (`stable` / `canary`).
const MAX_FORCE_VALUE: usize = 16;
/// Longest `Cookie` header scanned for a cookie; longer ones are not read for canary purposes.
const MAX_COOKIE_HEADER: usize = 8 * 1024;

/// A launch URL's tag that does not open: the launch is answered 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadTag;

/// What a forcing header or cookie led to (metric label values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forced {
    /// From a trusted network, naming a pool: that pool serves the request.
    Honoured(PoolName),
    /// From anywhere else: ignored.
    Untrusted,
    /// From a trusted network, but naming no pool: ignored.
    Invalid,
}

impl Forced {
    /// The `outcome` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Forced::Honoured(_) => "honoured",
            Forced::Untrusted => "untrusted",
            Forced::Invalid => "invalid",
        }
    }
}

/// The state an operator sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutState {
    /// A share above 0.
    Active,
    /// The guard set the share to 0; it stays there until an operator raises it.
    RolledBack,
    /// Share 0 by configuration or by an operator.
    Off,
}

impl RolloutState {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutState::Active => "active",
            RolloutState::RolledBack => "rolled_back",
            RolloutState::Off => "off",
        }
    }
}

/// The canary of one store as it runs. `Send + Sync`: shared by every request of the store and
/// the admin listener.
pub struct Rollout {
    share_ppm: AtomicU32,
    rolled_back: AtomicBool,
    force: Option<Force>,
    tags: TagKey,
    guard: Option<Guard>,
    last_rollback: Mutex<Option<Evidence>>,
    /// First recorded request: bucket numbers count from here.
    origin: OnceLock<Instant>,
    /// The last bucket number the guard's test ran in.
    evaluated: AtomicU64,
}

impl Rollout {
    /// A canary at `share`; `guard` is `None` when automatic rollback is off.
    pub fn new(share: Share, force: Option<Force>, tags: TagKey, guard: Option<Guard>) -> Rollout {
        Rollout {
            share_ppm: AtomicU32::new(share.ppm()),
            rolled_back: AtomicBool::new(false),
            force,
            tags,
            guard,
            last_rollback: Mutex::new(None),
            origin: OnceLock::new(),
            evaluated: AtomicU64::new(0),
        }
    }

    /// Take over the live state of `previous` (this store's canary before a reload): the share
    /// in force, whoever set it, and a rollback with its evidence. The guard starts on a fresh
    /// window: its settings may have changed.
    pub fn adopt(&self, previous: &Rollout) {
        let share = previous.share_ppm.load(Ordering::Relaxed);
        self.share_ppm.store(share, Ordering::Relaxed);
        let rolled_back = previous.rolled_back.load(Ordering::Relaxed);
        self.rolled_back.store(rolled_back, Ordering::Relaxed);
        if let Ok(mut last) = self.last_rollback.lock() {
            *last = previous.last_rollback();
        }
    }

    /// The share in force now.
    pub fn share(&self) -> Share {
        Share::from_ppm(self.share_ppm.load(Ordering::Relaxed)).unwrap_or(Share::ZERO)
    }

    /// An operator sets the share: a rollback is over, the guard starts a fresh window.
    pub fn set_share(&self, share: Share) {
        self.share_ppm.store(share.ppm(), Ordering::Relaxed);
        self.rolled_back.store(false, Ordering::Relaxed);
        if let Some(g) = &self.guard {
            g.reset();
        }
    }

    /// The guard's verdict was a rollback: share 0 until an operator raises it. `false` when it
    /// was already rolled back (so the caller logs and counts once).
    pub fn roll_back(&self, evidence: Evidence) -> bool {
        self.share_ppm.store(0, Ordering::Relaxed);
        let first = !self.rolled_back.swap(true, Ordering::Relaxed);
        if first {
            if let Ok(mut last) = self.last_rollback.lock() {
                *last = Some(evidence);
            }
        }
        first
    }

    /// Active, rolled back (share 0 by the guard), or off (share 0 otherwise).
    pub fn state(&self) -> RolloutState {
        if self.rolled_back.load(Ordering::Relaxed) {
            RolloutState::RolledBack
        } else if self.share() == Share::ZERO {
            RolloutState::Off
        } else {
            RolloutState::Active
        }
    }

    /// The evidence of the last rollback, if any.
    pub fn last_rollback(&self) -> Option<Evidence> {
        self.last_rollback
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The guard, when automatic rollback is on.
    pub fn guard(&self) -> Option<&Guard> {
        self.guard.as_ref()
    }

    /// (stable, canary) requests and failures in the guard's window ending at `now`; zeros when
    /// the guard is off.
    pub fn window(&self, now: Instant) -> (Counts, Counts) {
        self.guard
            .as_ref()
            .map_or_else(Default::default, |g| g.window(now))
    }

    /// One finished request of `pool` (failed = 5xx answer or upstream error). Runs the guard's
    /// test when `now` is in a later bucket than the last test, and only while the canary is
    /// active; returns the evidence when this call rolled the canary back (the caller logs and
    /// counts it, once).
    pub fn record(
        &self,
        pool: PoolName,
        failed: bool,
        latency: Duration,
        now: Instant,
    ) -> Option<Evidence> {
        let guard = self.guard.as_ref()?;
        guard.record(pool, failed, latency, now);
        if self.state() != RolloutState::Active {
            return None;
        }
        let origin = *self.origin.get_or_init(|| now);
        let settings = guard.settings();
        let width = (settings.window / settings.buckets.max(1))
            .as_nanos()
            .max(1);
        let bucket = u64::try_from(now.saturating_duration_since(origin).as_nanos() / width)
            .unwrap_or(u64::MAX);
        let last = self.evaluated.load(Ordering::Relaxed);
        // One request per bucket wins the race and runs the test.
        if bucket <= last
            || self
                .evaluated
                .compare_exchange(last, bucket, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return None;
        }
        match guard.evaluate(now) {
            Verdict::Rollback(evidence) if self.roll_back(evidence.clone()) => Some(evidence),
            _ => None,
        }
    }

    /// The key that signs this store's launch tags.
    pub fn tags(&self) -> &TagKey {
        &self.tags
    }

    /// The pool of a client at the current share.
    pub fn choose(&self, key: ClientKey) -> PoolName {
        choose(self.share(), key)
    }

    /// The forcing header or cookie of a request from `client`, if it carries one.
    pub fn forced(&self, headers: &HeaderMap, client: Option<IpAddr>) -> Option<Forced> {
        let force = self.force.as_ref()?;
        let header = force
            .header
            .as_deref()
            .and_then(|h| headers.get(h))
            .map(|v| v.as_bytes().to_vec());
        let cookie = force
            .cookie
            .as_deref()
            .and_then(|c| cookie(headers, c))
            .map(|v| v.as_bytes().to_vec());
        let value = header.or(cookie)?;
        let trusted = client.is_some_and(|ip| force.trusted.iter().any(|n| n.contains(ip)));
        if !trusted {
            return Some(Forced::Untrusted);
        }
        let pool = std::str::from_utf8(&value)
            .ok()
            .filter(|v| v.len() <= MAX_FORCE_VALUE)
            .and_then(|v| PoolName::parse(v.trim()));
        Some(pool.map_or(Forced::Invalid, Forced::Honoured))
    }

    /// The public launch URL of `session_id` handed out from `pool`: the store's launch URL with
    /// the launch tag that leads back to `pool`.
    pub fn launch_url(&self, store: &Store, session_id: &str, pool: PoolName) -> String {
        let tag = seal(&self.tags, &store.path, session_id, pool);
        format!("{}?{LAUNCH_TAG_PARAM}={tag}", store.launch_url(session_id))
    }

    /// The pool a launch of `session_id` goes to, from the query of its URL: `Ok(None)` without
    /// a tag (a URL handed out before the canary; the split decides), `Err(BadTag)` when a tag is
    /// there but does not open (forged, altered, for another store or session, repeated).
    pub fn launch_pool(
        &self,
        store: &Store,
        session_id: &str,
        query: Option<&str>,
    ) -> Result<Option<PoolName>, BadTag> {
        let mut tags = query
            .unwrap_or("")
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(k, _)| *k == LAUNCH_TAG_PARAM)
            .map(|(_, v)| v);
        let Some(tag) = tags.next() else {
            return Ok(None);
        };
        if tags.next().is_some() {
            return Err(BadTag);
        }
        open(&self.tags, &store.path, session_id, tag)
            .map(Some)
            .ok_or(BadTag)
    }

    /// The forcing header and cookie names, to keep them from the servers.
    pub fn force_names(&self) -> (Option<&str>, Option<&str>) {
        match &self.force {
            Some(f) => (f.header.as_deref(), f.cookie.as_deref()),
            None => (None, None),
        }
    }
}

/// The value of cookie `name` in the request's `Cookie` headers, if present once or more (the
/// first wins). Bounded: oversized headers are not scanned.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter(|v| v.len() <= MAX_COOKIE_HEADER)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim())
}

/// A `Cookie` header value without cookie `name` (`None` when nothing is left).
pub fn without_cookie(value: &str, name: &str) -> Option<String> {
    let kept: Vec<&str> = value
        .split(';')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .filter(|pair| pair.split_once('=').map_or(*pair, |(k, _)| k).trim() != name)
        .collect();
    (!kept.is_empty()).then(|| kept.join("; "))
}

#[cfg(test)]
#[path = "rollout_tests.rs"]
mod tests;
