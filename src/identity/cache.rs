//! A bounded cache of introspection answers, keyed by the SHA-256 of the token so that no token
//! is kept in memory past its request.
//!
//! When full, expired entries go first, then the oldest ones: an insertion-ordered queue makes
//! "oldest" cheap, and the sweep for expired entries only runs when the cache is full.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use super::Identity;

/// SHA-256 of a token.
pub(crate) type Key = [u8; 32];

pub(crate) fn key(token: &str) -> Key {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    // SHA-256 is always 32 bytes; the fallback is unreachable.
    <[u8; 32]>::try_from(digest.as_ref()).unwrap_or_default()
}

struct Entry {
    identity: Identity,
    expires: Instant,
    /// Insertion number, to tell the current entry from a replaced one in `order`.
    seq: u64,
}

#[derive(Default)]
struct Inner {
    map: HashMap<Key, Entry>,
    order: VecDeque<(Key, u64)>,
    next_seq: u64,
}

pub(crate) struct Cache {
    capacity: usize,
    inner: Mutex<Inner>,
}

impl Cache {
    pub(crate) fn new(capacity: usize) -> Cache {
        Cache {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn get(&self, key: &Key, now: Instant) -> Option<Identity> {
        let mut inner = self.lock();
        match inner.map.get(key) {
            Some(e) if e.expires > now => Some(e.identity.clone()),
            Some(_) => {
                inner.map.remove(key);
                None
            }
            None => None,
        }
    }

    pub(crate) fn insert(&self, key: Key, identity: Identity, expires: Instant, now: Instant) {
        if self.capacity == 0 || expires <= now {
            return;
        }
        let mut inner = self.lock();
        if !inner.map.contains_key(&key) && inner.map.len() >= self.capacity {
            inner.map.retain(|_, e| e.expires > now);
            let Inner { map, order, .. } = &mut *inner;
            order.retain(|(k, seq)| map.get(k).is_some_and(|e| e.seq == *seq));
            while map.len() >= self.capacity {
                let Some((k, _)) = order.pop_front() else {
                    break;
                };
                map.remove(&k);
            }
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.map.insert(
            key,
            Entry {
                identity,
                expires,
                seq,
            },
        );
        inner.order.push_back((key, seq));
        // Replaced entries leave stale queue items; drop them before the queue outgrows the map.
        if inner.order.len() > 2 * self.capacity.max(16) {
            let Inner { map, order, .. } = &mut *inner;
            order.retain(|(k, seq)| map.get(k).is_some_and(|e| e.seq == *seq));
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn id(n: u32) -> Identity {
        Identity {
            sam: format!("CORP\\u{n}"),
            sids: vec![],
        }
    }

    #[test]
    fn bounded_expired_first_then_oldest() {
        let now = Instant::now();
        let c = Cache::new(3);
        let long = now + Duration::from_secs(60);
        c.insert(key("a"), id(1), long, now);
        c.insert(key("b"), id(2), now + Duration::from_secs(1), now);
        c.insert(key("c"), id(3), long, now);
        let later = now + Duration::from_secs(2);
        // "b" has expired: it goes, "a" (the oldest) stays.
        c.insert(key("d"), id(4), long, later);
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(&key("a"), later), Some(id(1)));
        assert_eq!(c.get(&key("b"), later), None);
        // Nothing expired: the oldest ("a") goes.
        c.insert(key("e"), id(5), long, later);
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(&key("a"), later), None);
        assert_eq!(c.get(&key("e"), later), Some(id(5)));
        assert_eq!(c.get(&key("e"), now + Duration::from_secs(61)), None);
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let now = Instant::now();
        let c = Cache::new(0);
        c.insert(key("a"), id(1), now + Duration::from_secs(9), now);
        assert_eq!(c.get(&key("a"), now), None);
    }

    #[test]
    fn replacing_keeps_the_bound() {
        let now = Instant::now();
        let c = Cache::new(2);
        let exp = now + Duration::from_secs(60);
        for _ in 0..100 {
            c.insert(key("a"), id(1), exp, now);
        }
        c.insert(key("b"), id(2), exp, now);
        c.insert(key("c"), id(3), exp, now);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&key("a"), now), None);
        assert!(c.lock().order.len() <= 2 * 16 + 1);
    }
}
