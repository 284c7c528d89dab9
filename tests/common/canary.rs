//! Canary harness: a store with a stable and a canary pool of simulated StoreFront servers, which
//! pool answered a request (by the simulators' request counts), and requests sent from another
//! loopback address (an untrusted or trusted source for the forced pool).

use std::io::BufReader;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use sessiongate::server::{standalone, Handoff, Running};
use sessiongate::sim::storefront::StoreFrontSim;

use super::{params, raw, Response, Sim};

/// The launch-tag key of the test stores (any file of 32 bytes or more).
pub const LAUNCH_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/identity/hs256.secret"
);

/// Which pool answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    Stable,
    Canary,
    /// Neither simulator saw a request (the gateway answered), or both did.
    Neither,
}

/// A stable and a canary simulator.
pub struct Pools {
    pub stable: Sim,
    pub canary: Sim,
}

impl Pools {
    pub fn demo() -> Pools {
        Pools {
            stable: Sim::demo(),
            canary: Sim::demo(),
        }
    }

    /// Run `f` and say which simulator received requests meanwhile.
    pub fn answered<T>(&self, f: impl FnOnce() -> T) -> (Answered, T) {
        let (s0, c0) = (
            self.stable.sim.request_count(),
            self.canary.sim.request_count(),
        );
        let out = f();
        let s = self.stable.sim.request_count() - s0;
        let c = self.canary.sim.request_count() - c0;
        let who = match (s > 0, c > 0) {
            (true, false) => Answered::Stable,
            (false, true) => Answered::Canary,
            _ => Answered::Neither,
        };
        (who, out)
    }
}

/// A store at /Citrix/Store with `stable` and `canary` servers at `share` percent; `storefront`
/// and `canary_extra` are more YAML lines under `storefront:` (6 spaces) and `canary:` (8).
pub fn canary_store(
    stable: &[SocketAddr],
    canary: &[SocketAddr],
    share: f64,
    storefront: &str,
    canary_extra: &str,
) -> String {
    let list = |a: &[SocketAddr]| {
        a.iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "  - path: /Citrix/Store\n    public_url: https://ws.example.com/Citrix/Store\n    storefront:\n      upstreams: [{}]\n      upstream_path: /Citrix/Store\n      connect_timeout_ms: 500\n      read_timeout_ms: 2000\n{storefront}      canary:\n        upstreams: [{}]\n        share: {share}\n        launch_key_file: {LAUNCH_KEY}\n{canary_extra}",
        list(stable),
        list(canary)
    )
}

/// Session parameters naming a device.
pub fn device_params(device: &str) -> String {
    params("C", &format!("<deviceId>{device}</deviceId>"))
}

/// Send one request from source address `from` (any 127.0.0.0/8 address on Linux).
pub fn send_from(from: IpAddr, to: SocketAddr, request: &[u8]) -> Response {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(from, 0)).unwrap();
        socket.connect(to).await.unwrap()
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    std::io::Write::write_all(reader.get_mut(), request).unwrap();
    let head = request.starts_with(b"HEAD ");
    raw::read_response(&mut reader, head).unwrap_or_else(|r| panic!("no response: {r:?}"))
}

/// A simulator serving on `addr` (to bring a stopped server back on its address).
pub fn sim_at(sim: Arc<StoreFrontSim>, addr: SocketAddr) -> Running {
    let listener = TcpListener::bind(addr).expect("rebind the server's address");
    let handoff = Handoff::start(vec![listener]).expect("hand-over");
    Running::spawn(standalone(sim.service(&addr.to_string()), Some(&handoff)))
}

/// The value of `name` in a `Set-Cookie` header of `r`.
pub fn set_cookie<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers_named("set-cookie").into_iter().find_map(|c| {
        c.split(';')
            .next()
            .and_then(|pair| pair.trim().strip_prefix(name))
            .and_then(|rest| rest.strip_prefix('='))
    })
}

/// Stop a simulator; its state and address, to start it again with [`sim_at`].
pub fn stop(sim: Sim) -> (Arc<StoreFrontSim>, SocketAddr) {
    let Sim {
        sim,
        addr,
        _running,
    } = sim;
    _running.stop();
    (sim, addr)
}

/// A launch request for `path_and_query` (a launch URL's path below the host).
pub fn launch_request(path_and_query: &str) -> Vec<u8> {
    super::request(
        "POST",
        path_and_query,
        &[
            ("Authorization", super::ALICE),
            ("Accept", super::LAUNCH_DATA),
            ("Content-Type", super::LAUNCH_PARAMS),
        ],
        &super::launch_params("C"),
    )
}

/// `store` (a [`canary_store`]) with the metric label `name`: the metrics registry is shared by
/// every test of a binary.
pub fn named(name: &str, store: &str) -> String {
    store.replacen("\n", &format!("\n    name: {name}\n"), 1)
}
