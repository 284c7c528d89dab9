//! The brute-force throttle of a relay: failed password logons counted per user and per
//! untrusted source address in a fixed window; over the limit, the relay refuses the logon itself
//! and the broker never sees it (so neither does the domain's lockout counter).
//!
//! Memory is bounded: each table holds at most `max_entries` keys, and a key is kept as a keyed
//! 64-bit hash (never the user name itself). When a table is full of live windows, a key it does
//! not know is refused as if it were over its limit: under a spray of that size, refusing
//! logons is the safe failure, and it ends as windows expire.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::config::Throttle as Bounds;

/// One key's failures since its window opened.
#[derive(Debug, Clone, Copy)]
struct Window {
    opened: Instant,
    failures: u32,
}

/// Failures by key, bounded.
#[derive(Debug)]
struct Table {
    limit: u32,
    window: Duration,
    max_entries: usize,
    hasher: RandomState,
    entries: HashMap<u64, Window>,
}

impl Table {
    fn new(limit: u32, bounds: &Bounds) -> Table {
        Table {
            limit,
            window: bounds.window,
            max_entries: bounds.max_entries,
            hasher: RandomState::new(),
            entries: HashMap::new(),
        }
    }

    fn live(&self, w: &Window, now: Instant) -> bool {
        now.saturating_duration_since(w.opened) < self.window
    }

    /// Is `key` over its limit (or unknown to a full table)?
    fn refuses(&mut self, key: &[u8], now: Instant) -> bool {
        let h = self.hasher.hash_one(key);
        match self.entries.get(&h) {
            Some(w) if self.live(w, now) => w.failures >= self.limit,
            _ => !self.room(now),
        }
    }

    /// Count one failure of `key`.
    fn fail(&mut self, key: &[u8], now: Instant) {
        let h = self.hasher.hash_one(key);
        let known = self.entries.get(&h).is_some_and(|w| self.live(w, now));
        if known {
            if let Some(w) = self.entries.get_mut(&h) {
                w.failures = w.failures.saturating_add(1);
            }
        } else if self.room(now) {
            self.entries.insert(
                h,
                Window {
                    opened: now,
                    failures: 1,
                },
            );
        }
    }

    /// Is there room for a new key, after dropping expired windows if the table is full?
    fn room(&mut self, now: Instant) -> bool {
        if self.entries.len() >= self.max_entries {
            let window = self.window;
            self.entries
                .retain(|_, w| now.saturating_duration_since(w.opened) < window);
        }
        self.entries.len() < self.max_entries
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Who a password logon comes from.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// `domain\user`, lower-cased.
    pub user: &'a str,
    pub source: IpAddr,
    /// Trusted sources (StoreFront's servers) speak for many users: only their users are counted.
    pub trusted: bool,
}

/// The failure tables of one relay.
#[derive(Debug)]
pub struct Throttle {
    users: Table,
    sources: Table,
}

impl Throttle {
    pub fn new(bounds: &Bounds) -> Throttle {
        Throttle {
            users: Table::new(bounds.failures_per_user, bounds),
            sources: Table::new(bounds.failures_per_source, bounds),
        }
    }

    /// Must this logon be refused without asking the farm?
    pub fn refuses(&mut self, a: &Attempt<'_>, now: Instant) -> bool {
        let user = self.users.refuses(a.user.as_bytes(), now);
        let source = !a.trusted && self.sources.refuses(source_key(a.source).as_bytes(), now);
        user || source
    }

    /// The farm said the password was wrong (or the relay refused it).
    pub fn failed(&mut self, a: &Attempt<'_>, now: Instant) {
        self.users.fail(a.user.as_bytes(), now);
        if !a.trusted {
            self.sources.fail(source_key(a.source).as_bytes(), now);
        }
    }

    /// Keys held now (users, sources).
    pub fn len(&self) -> (usize, usize) {
        (self.users.len(), self.sources.len())
    }
}

fn source_key(ip: IpAddr) -> String {
    // An IPv4 client seen through an IPv6 socket is the same client.
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or_else(|| v6.to_string(), |v4| v4.to_string()),
        IpAddr::V4(v4) => v4.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn bounds(max_entries: usize) -> Bounds {
        Bounds {
            failures_per_user: 3,
            failures_per_source: 5,
            window: Duration::from_secs(60),
            max_entries,
        }
    }

    fn attempt(user: &str, last: u8, trusted: bool) -> Attempt<'_> {
        Attempt {
            user,
            source: IpAddr::from([10, 0, 0, last]),
            trusted,
        }
    }

    #[test]
    fn a_user_is_refused_after_its_failures_until_the_window_ends() {
        let mut t = Throttle::new(&bounds(100));
        let now = Instant::now();
        for i in 0..3u8 {
            let a = attempt("corp\\alice", i, true);
            assert!(!t.refuses(&a, now));
            t.failed(&a, now);
        }
        assert!(t.refuses(&attempt("corp\\alice", 9, true), now));
        assert!(!t.refuses(&attempt("corp\\bob", 9, true), now));
        let later = now + Duration::from_secs(61);
        assert!(!t.refuses(&attempt("corp\\alice", 9, true), later));
    }

    #[test]
    fn an_untrusted_source_is_refused_whatever_user_it_tries() {
        let mut t = Throttle::new(&bounds(100));
        let now = Instant::now();
        for user in ["a", "b", "c", "d", "e"] {
            let a = attempt(user, 7, false);
            assert!(!t.refuses(&a, now));
            t.failed(&a, now);
        }
        assert!(t.refuses(&attempt("f", 7, false), now));
        assert!(!t.refuses(&attempt("f", 8, false), now));
        // A trusted source (StoreFront) is never refused for its other users' failures.
        for user in ["a", "b", "c", "d", "e", "f"] {
            t.failed(&attempt(user, 1, true), now);
        }
        assert!(!t.refuses(&attempt("g", 1, true), now));
    }

    #[test]
    fn memory_is_bounded_and_a_full_table_refuses_newcomers() {
        let mut t = Throttle::new(&bounds(4));
        let now = Instant::now();
        for i in 0..50u8 {
            t.failed(&attempt(&format!("user{i}"), i, false), now);
        }
        assert_eq!(t.len(), (4, 4));
        assert!(t.refuses(&attempt("newcomer", 200, false), now));
        let later = now + Duration::from_secs(61);
        assert!(!t.refuses(&attempt("newcomer", 200, false), later));
        assert_eq!(t.len(), (0, 0));
    }
}
