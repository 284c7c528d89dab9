//! Canary routing through real sockets: two pools of simulated StoreFront servers behind one
//! store. The sticky split (the gateway decides as the library does, device by device, and the
//! share holds), the affinity cookie for passthrough paths, the forced pool from a trusted and an
//! untrusted address, launch affinity and tampered tags, and a canary server that leaves rotation
//! and comes back (HTTP health check). The guard is in `tests/canary_guard.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::canary::*;
use common::*;

use std::net::IpAddr;
use std::time::Duration;

use sessiongate::routing::canary::{choose, ClientKey, PoolName, Share};

const NO_GUARD: &str = "        guard: {enabled: false}\n";
const PUBLIC: &str = "https://ws.example.com";
const TRUSTED: &str = "127.0.0.2";

fn trusted() -> IpAddr {
    TRUSTED.parse().unwrap()
}

fn untrusted() -> IpAddr {
    "127.0.0.1".parse().unwrap()
}

/// A store at `share` with forcing allowed from 127.0.0.2 only.
fn forcing_store(pools: &Pools, name: &str, share: f64) -> Gateway {
    let force = format!(
        "        force: {{header: X-Sessiongate-Pool, cookie: sessiongate_pool, trusted: [\"{TRUSTED}/32\"]}}\n{NO_GUARD}"
    );
    Gateway::start_with_stores(&named(
        name,
        &canary_store(
            &[pools.stable.addr],
            &[pools.canary.addr],
            share,
            "      health_check_interval_ms: 0\n",
            &force,
        ),
    ))
}

/// `request` with one more header.
fn with_header(request: Vec<u8>, name: &str, value: &str) -> Vec<u8> {
    String::from_utf8(request)
        .unwrap()
        .replacen("\r\n", &format!("\r\n{name}: {value}\r\n"), 1)
        .into_bytes()
}

fn list_for(gw: &Gateway, device: &str) -> Response {
    available(gw, ALICE, &device_params(device))
}

#[test]
fn one_device_one_pool_and_the_share_holds() {
    let pools = Pools::demo();
    let gw = Gateway::start_with_stores(&canary_store(
        &[pools.stable.addr],
        &[pools.canary.addr],
        30.0,
        "      health_check_interval_ms: 0\n",
        NO_GUARD,
    ));
    let share = Share::from_percent(30.0).unwrap();
    let devices = 400;
    let mut canary = 0;
    for i in 0..devices {
        let device = format!("device-{i}");
        let (who, r) = pools.answered(|| list_for(&gw, &device));
        assert_eq!(r.status, 200, "{}", r.text());
        let (key, _) = ClientKey::derive(Some(&device), Some("C"), None, None);
        let expected = match choose(share, key) {
            PoolName::Stable => Answered::Stable,
            PoolName::Canary => Answered::Canary,
        };
        assert_eq!(
            who, expected,
            "{device}: the gateway decides as the library"
        );
        canary += usize::from(who == Answered::Canary);
        // The answer carries the key for the passthrough paths.
        assert_eq!(
            set_cookie(&r, "sessiongate_affinity"),
            Some(key.to_cookie().as_str())
        );
        if i < 20 {
            let cookie = r
                .headers_named("set-cookie")
                .into_iter()
                .find(|c| c.starts_with("sessiongate_affinity="))
                .unwrap()
                .to_string();
            for attribute in ["Path=/Citrix/Store", "HttpOnly", "SameSite=Lax", "Secure"] {
                assert!(cookie.contains(attribute), "{cookie}");
            }
            for _ in 0..2 {
                let (again, _) = pools.answered(|| list_for(&gw, &device));
                assert_eq!(again, who, "{device} sticks to its pool");
            }
            // A passthrough request with the cookie follows the device's pool, and is not told
            // the cookie again.
            let cookie_header = format!("sessiongate_affinity={}", key.to_cookie());
            let (followed, r) = pools.answered(|| {
                send(
                    gw.addr,
                    &request(
                        "GET",
                        "/Citrix/Store/resources/v2",
                        &[("Authorization", ALICE), ("Cookie", &cookie_header)],
                        "",
                    ),
                )
            });
            assert_eq!(r.status, 200);
            assert_eq!(followed, who, "{device}: passthrough follows the cookie");
            assert_eq!(set_cookie(&r, "sessiongate_affinity"), None);
            let seen = pools.canary.sim.requests();
            let seen_stable = pools.stable.sim.requests();
            let last = if who == Answered::Canary {
                seen.last()
            } else {
                seen_stable.last()
            };
            assert!(
                !last
                    .unwrap()
                    .headers
                    .iter()
                    .any(|(n, v)| n == "cookie" && v.contains("sessiongate_affinity")),
                "the gateway's cookie stays with the gateway"
            );
        }
    }
    let measured = canary as f64 * 100.0 / devices as f64;
    eprintln!("canary share over {devices} devices: {measured:.1} % (configured 30 %)");
    assert!((22.0..=38.0).contains(&measured), "{measured}");
}

#[test]
fn forced_pool_is_honoured_from_trusted_networks_only() {
    let pools = Pools::demo();
    let gw = forcing_store(&pools, "forced", 0.0);
    let forced = |pool: &str| {
        with_header(
            sessions_post(
                "/Citrix/Store/sessions/v1/available",
                ALICE,
                SESSION_STATE,
                &device_params("d-1"),
            ),
            "X-Sessiongate-Pool",
            pool,
        )
    };
    let (who, r) = pools.answered(|| send_from(trusted(), gw.addr, &forced("canary")));
    assert_eq!(
        (who, r.status),
        (Answered::Canary, 200),
        "trusted: honoured"
    );
    let last = pools.canary.sim.requests().last().cloned().unwrap();
    assert!(
        !last.headers.iter().any(|(n, _)| n == "x-sessiongate-pool"),
        "the forcing header stays with the gateway"
    );
    let (who, r) = pools.answered(|| send_from(untrusted(), gw.addr, &forced("canary")));
    assert_eq!(
        (who, r.status),
        (Answered::Stable, 200),
        "untrusted: ignored"
    );
    let (who, _) = pools.answered(|| send_from(trusted(), gw.addr, &forced("blue")));
    assert_eq!(who, Answered::Stable, "an unknown pool is ignored");
    // The cookie, on a passthrough path.
    let by_cookie = request(
        "GET",
        "/Citrix/Store/resources/v2",
        &[
            ("Authorization", ALICE),
            ("Cookie", "a=1; sessiongate_pool=canary"),
        ],
        "",
    );
    let (who, r) = pools.answered(|| send_from(trusted(), gw.addr, &by_cookie));
    assert_eq!((who, r.status), (Answered::Canary, 200));
    let last = pools.canary.sim.requests().last().cloned().unwrap();
    let cookies: Vec<&str> = last
        .headers
        .iter()
        .filter(|(n, _)| n == "cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(cookies, vec!["a=1"], "only the client's own cookies go on");
    let (who, _) = pools.answered(|| send_from(untrusted(), gw.addr, &by_cookie));
    assert_eq!(who, Answered::Stable);
    for (outcome, count) in [("honoured", 2.0), ("untrusted", 2.0), ("invalid", 1.0)] {
        let sample =
            format!("sessiongate_canary_forced_total{{outcome=\"{outcome}\",store=\"forced\"}}");
        assert_eq!(gw.metric(&sample, count), count, "{sample}");
    }
}

/// The path and query of every launch URL of a listing.
fn launch_paths(r: &Response) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text());
    urls(&r.text())
        .into_iter()
        .map(|u| {
            u.strip_prefix(PUBLIC)
                .expect("public launch URL")
                .replace("&amp;", "&")
        })
        .collect()
}

#[test]
fn launch_follows_its_tag_and_a_tampered_tag_is_404() {
    let pools = Pools::demo();
    let gw = forcing_store(&pools, "launch", 0.0);
    // A listing served by the canary (forced from the trusted address) hands out canary tags.
    let listing = sessions_post(
        "/Citrix/Store/sessions/v1/available",
        ALICE,
        SESSION_STATE,
        &device_params("d-2"),
    );
    let forced = with_header(listing, "X-Sessiongate-Pool", "canary");
    let (who, r) = pools.answered(|| send_from(trusted(), gw.addr, &forced));
    assert_eq!(who, Answered::Canary);
    let paths = launch_paths(&r);
    assert!(!paths.is_empty());
    for p in &paths {
        assert!(p.contains("/launch/ica?pool_tag=c."), "{p}");
    }
    // Launched later from anywhere, without forcing: the tag leads back to the canary, though
    // the split (share 0) would say stable.
    let (who, r) = pools.answered(|| send(gw.addr, &launch_request(&paths[0])));
    assert_eq!((who, r.status), (Answered::Canary, 200), "{}", r.text());
    // The stable pool's listing carries stable tags.
    let stable_paths = launch_paths(&list_for(&gw, "d-2"));
    assert!(
        stable_paths[0].contains("pool_tag=s."),
        "{}",
        stable_paths[0]
    );
    // Editing the tag to pick the other pool, or using it for another session: 404, and no
    // server hears of it.
    let flipped = paths[0].replace("pool_tag=c.", "pool_tag=s.");
    let other_session = match paths.get(1) {
        Some(p) => format!(
            "{}?{}",
            p.split('?').next().unwrap(),
            paths[0].split('?').nth(1).unwrap()
        ),
        None => paths[0].replace("/sessions/v1/", "/sessions/v1/X"),
    };
    let truncated = paths[0][..paths[0].len() - 3].to_string();
    for bad in [
        flipped,
        other_session,
        truncated,
        format!("{}?pool_tag=garbage", paths[0].split('?').next().unwrap()),
    ] {
        let (who, r) = pools.answered(|| send(gw.addr, &launch_request(&bad)));
        assert_eq!((who, r.status), (Answered::Neither, 404), "{bad}");
        assert_eq!(r.reason(), "launch_tag_invalid");
    }
    // A launch URL without a tag (handed out before the canary) follows the split.
    let untagged = stable_paths[0].split('?').next().unwrap().to_string();
    let (who, r) = pools.answered(|| send(gw.addr, &launch_request(&untagged)));
    assert_eq!((who, r.status), (Answered::Stable, 200));
}

#[test]
fn a_canary_server_that_dies_leaves_rotation_and_comes_back() {
    let pools = Pools::demo();
    let check = "      health_check: {path: /Citrix/Store/endpoints/v1, interval_ms: 100, timeout_ms: 100, failures: 1, successes: 1}\n";
    let gw = Gateway::start_with_stores(&named(
        "dying",
        &canary_store(
            &[pools.stable.addr],
            &[pools.canary.addr],
            100.0,
            check,
            NO_GUARD,
        ),
    ));
    let who = || pools.answered(|| list_for(&gw, "d-3")).0;
    assert_eq!(
        poll_until(Duration::from_secs(10), who, |w| *w == Answered::Canary),
        Answered::Canary,
        "share 100: the canary serves"
    );
    let Pools { stable, canary } = pools;
    let (canary_sim, canary_addr) = stop(canary);
    // Requests fail while the check notices (one server, nothing to retry on); then the stable
    // pool answers them all.
    let listed = |device: &str| available(&gw, ALICE, &device_params(device)).status;
    assert_eq!(
        poll_until(Duration::from_secs(10), || listed("d-3"), |s| *s == 200),
        200,
        "the dead canary server left rotation: stable answers"
    );
    let fell_back = stable.sim.requests().iter().any(|q| body_names(q, "d-3"));
    assert!(fell_back, "stable served the canary's client");
    // Counted in `logging`, a moment after the answer is written.
    let text = poll_until(
        Duration::from_secs(2),
        || gw.metrics(),
        |t| t.contains("sessiongate_canary_fallbacks_total{store=\"dying\"}"),
    );
    assert!(
        text.contains("sessiongate_canary_fallbacks_total{store=\"dying\"}"),
        "{text}"
    );
    let down = format!(
        "sessiongate_backend_up{{backend=\"{canary_addr}\",pool=\"canary\",store=\"dying\"}} 0"
    );
    assert!(text.contains(&down), "{down} in {text}");
    let _back = sim_at(canary_sim.clone(), canary_addr);
    let mut n = 0;
    let returned = poll_until(
        Duration::from_secs(10),
        || {
            n += 1;
            let device = format!("d-3-{n}");
            listed(&device) == 200 && canary_sim.requests().iter().any(|q| body_names(q, &device))
        },
        |back| *back,
    );
    assert!(returned, "the canary server is back in rotation");
}

/// Does a recorded request's body name `device`?
fn body_names(q: &sessiongate::sim::storefront::RecordedRequest, device: &str) -> bool {
    String::from_utf8_lossy(&q.body).contains(&format!(">{device}<"))
}
