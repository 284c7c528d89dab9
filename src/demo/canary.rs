//! The canary part of `sessiongate demo`: two device ids that the split puts in different pools,
//! and the commands that show the split, force a pool, make the canary fail until the guard
//! rolls it back, and resume it through the admin listener.

use crate::routing::canary::{choose, ClientKey, PoolName, Share};

/// Device ids tried for the demo, `device-1` upwards; at any share strictly between 0 and 100
/// both pools get one long before this bound (the ring is uniform).
const MAX_DEVICES_TRIED: u32 = 100_000;

/// What the canary commands need to know.
#[derive(Debug, Clone)]
pub struct CanaryDemo<'a> {
    /// `{public store URL}/sessions/v1`.
    pub sessions: &'a str,
    /// The admin listener, `ip:port`.
    pub admin: &'a str,
    /// The canary simulator, `ip:port` (its fault switch).
    pub canary_sim: &'a str,
    /// The store path, as `POST /canary/{store}` takes it.
    pub store_path: &'a str,
    /// The share configured at start, percent.
    pub share: f64,
    /// The forcing header.
    pub force_header: &'a str,
    /// The guard's minimum of requests of each pool.
    pub min_requests: u64,
}

/// The first `device-N` the split puts in `pool` at `share` (the key the gateway derives from
/// a body with that deviceId, as in the printed commands).
pub fn device_in(pool: PoolName, share: Share) -> Option<String> {
    (1..=MAX_DEVICES_TRIED)
        .map(|i| format!("device-{i}"))
        .find(|d| {
            let (key, _) = ClientKey::derive(Some(d), Some("NEW-DEVICE"), None, None);
            choose(share, key) == pool
        })
}

const HEADERS: &str = "-H 'Accept: application/vnd.citrix.sessionstate+xml' -H 'Content-Type: application/vnd.citrix.sessionparams+xml'";
const ALICE: &str = "-H 'Authorization: CitrixAuth demo-token-alice'";

fn body(device: &str) -> String {
    format!(
        "'<sessionparams xmlns=\"http://citrix.com/delivery-services/1-0/sessionparams\"><clientName>NEW-DEVICE</clientName><deviceId>{device}</deviceId></sessionparams>'"
    )
}

/// The commands printed for the canary, numbered from `first`.
pub fn instructions(c: &CanaryDemo<'_>, first: u32) -> String {
    let share = Share::from_percent(c.share).unwrap_or(Share::ZERO);
    let stable = device_in(PoolName::Stable, share).unwrap_or_else(|| "device-1".into());
    let canary = device_in(PoolName::Canary, share).unwrap_or_else(|| "device-2".into());
    let list = |device: &str, extra: &str| {
        format!(
            "curl -si -X POST {}/available {ALICE} {HEADERS}{extra} --data {} | grep -i '^x-sim-server'",
            c.sessions,
            body(device)
        )
    };
    let loop_rounds = c.min_requests + c.min_requests / 2;
    let (n, admin, sim, store, header) =
        (first, c.admin, c.canary_sim, c.store_path, c.force_header);
    format!(
        "# {n}. The canary: a second simulated StoreFront server serves {pct}% of the clients of {store},\n\
         #    chosen by deviceId (else clientName). Each simulated server names itself in an\n\
         #    x-sim-server header; the same device always gets the same one:\n\
         {to_stable}\n\
         {to_canary}\n\n\
         # {n1}. Force a pool from a trusted network (loopback, in the demo; from elsewhere the header is ignored):\n\
         {forced}\n\n\
         # {n2}. The split as the gateway counted it, and the canary as the admin listener sees it:\n\
         curl -s http://{admin}/metrics | grep '^sessiongate_requests_total.*pool='\n\
         curl -s http://{admin}/canary\n\n\
         # {n3}. Make the canary fail (its fault switch), then send each pool {loop_rounds} requests over a few\n\
         #    seconds: the guard compares the pools once a second and rolls the canary back (share 0,\n\
         #    state rolled_back, the evidence in /canary; the gateway logs it too):\n\
         curl -s -X POST http://{sim}/__sim/fault --data 500\n\
         for i in $(seq {loop_rounds}); do for pool in stable canary; do curl -s -o /dev/null -w \"$pool:%{{http_code}} \" -X POST {sessions}/available {ALICE} {HEADERS} -H \"{header}: $pool\" --data {plain}; done; sleep 0.1; done; echo\n\
         curl -s http://{admin}/canary\n\n\
         # {n4}. Repair the canary and resume at {pct}% (the admin listener is on loopback: no token needed):\n\
         curl -s -X POST http://{sim}/__sim/fault --data none\n\
         curl -s -X POST http://{admin}/canary{store} --data '{{\"share\": {pct}}}'\n",
        pct = c.share,
        to_stable = list(&stable, ""),
        to_canary = list(&canary, ""),
        forced = list(&stable, &format!(" -H '{header}: canary'")),
        sessions = c.sessions,
        plain = body("LOOP-DEVICE"),
        n1 = n + 1,
        n2 = n + 2,
        n3 = n + 3,
        n4 = n + 4,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn devices_land_where_they_are_said_to() {
        let share = Share::from_percent(10.0).unwrap();
        for pool in [PoolName::Stable, PoolName::Canary] {
            let device = device_in(pool, share).unwrap();
            let (key, _) = ClientKey::derive(Some(&device), Some("NEW-DEVICE"), None, None);
            assert_eq!(choose(share, key), pool);
        }
        assert_eq!(device_in(PoolName::Canary, Share::ZERO), None);
    }

    /// The demo's first commands (no deviceId, clientName NEW-DEVICE) launch a session of the
    /// stable server by its id: that client must be in the stable pool at the demo's share.
    #[test]
    fn the_demo_client_is_in_the_stable_pool() {
        let (key, _) = ClientKey::derive(None, Some("NEW-DEVICE"), None, None);
        assert_eq!(
            choose(Share::from_percent(10.0).unwrap(), key),
            PoolName::Stable
        );
    }
}
