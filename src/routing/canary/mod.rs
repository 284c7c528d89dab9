//! Canary routing: which pool of a store (stable or canary) serves a request, how a launch URL
//! leads back to the pool that handed it out, and when the canary is rolled back.
//!
//! Everything here is pure: no I/O, no clock, no global state. Time is passed in, keys are
//! derived from what the request carries, and the decisions are plain functions of their inputs,
//! so every gateway replica (and every restart) decides the same without sharing anything, and
//! the statistics can be tested by simulation in milliseconds. The pools themselves, their health
//! checks, the proxy path and the admin endpoints are built in wiring on top of this.
//!
//! * [`split`]: the sticky split. A client key (deviceId, else clientName, else a hash of the
//!   token, else the client address) is hashed with a fixed, documented 64-bit hash onto a ring of
//!   one million positions; the client sees the canary iff its position is below the share. A
//!   client therefore always lands in one pool at a given share, and raising the share only moves
//!   clients into the canary, never out.
//! * [`tag`]: launch tags. A launch URL handed out from a pool carries an HMAC-SHA256 tag binding
//!   the pool to the store and the launch id, so a client cannot choose a pool by editing a URL.
//! * [`guard`]: the rollback guard. It counts requests and failures (and optionally latency) of
//!   both pools over a sliding window and rolls the canary back only when a one-sided
//!   two-proportion z-test says the canary fails more often than stable with confidence, and the
//!   canary has served enough requests for the verdict to mean something, rather than on a fixed
//!   rate that a small canary crosses by chance.

pub mod guard;
pub mod split;
pub mod tag;

pub use guard::{Counts, Evidence, Guard, GuardSettings, RollbackCause, Verdict};
pub use split::{choose, ClientKey, KeySource, Share};
pub use tag::{open, seal, TagKey};

/// Which pool of a store serves a request. Metric label values "stable" / "canary".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoolName {
    Stable,
    Canary,
}

impl PoolName {
    /// Both pools, stable first.
    pub const ALL: [PoolName; 2] = [PoolName::Stable, PoolName::Canary];

    /// The metric label value (and the name used in configuration, headers and cookies).
    pub fn as_str(self) -> &'static str {
        match self {
            PoolName::Stable => "stable",
            PoolName::Canary => "canary",
        }
    }

    /// The pool named exactly `stable` or `canary` (ASCII case-insensitive, as header values are
    /// often written by hand); anything else is `None`.
    pub fn parse(s: &str) -> Option<PoolName> {
        PoolName::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_names_round_trip() {
        for p in PoolName::ALL {
            assert_eq!(PoolName::parse(p.as_str()), Some(p));
        }
        assert_eq!(PoolName::parse("Canary"), Some(PoolName::Canary));
        for bad in ["", "canary ", "stabl", "both", "canary\0", "ｃanary"] {
            assert_eq!(PoolName::parse(bad), None, "{bad:?}");
        }
    }
}
