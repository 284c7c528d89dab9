//! Legacy farms in tests: the simulated NFuse XML broker on an ephemeral loopback port, and a
//! gateway with one farm-backed store at [`STORE`] in front of such farms, whose users carry
//! HS256 tokens signed with the identity fixture's secret (lint allowances come from `mod.rs`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sessiongate::server::Running;
use sessiongate::sim::farm::{FarmSessionSnapshot, FarmSim, FarmSimConfig};

use super::{
    launch_params, request, send, serve, sessions_post, unix_now, Gateway, Response, LAUNCH_DATA,
    LAUNCH_PARAMS, SESSION_STATE,
};

/// Path of the farm-backed store.
pub const STORE: &str = "/Citrix/Legacy";
/// Its public URL, the base of every launch URL it hands out.
pub const PUBLIC: &str = "https://ws.example.com/Citrix/Legacy";
/// The audience tokens are minted for and the store expects.
pub const AUDIENCE: &str = "sessiongate-test";
/// The user most tests list sessions for.
pub const ALICE_SAM: &str = "CORP\\alice";

/// A running simulated farm (one XML broker); stopped on drop.
pub struct Farm {
    pub sim: Arc<FarmSim>,
    pub addr: SocketAddr,
    _running: Running,
}

impl Farm {
    /// Serve `sim` on an ephemeral loopback port.
    pub fn start(sim: Arc<FarmSim>) -> Farm {
        let (addr, running) = serve(|addr| sim.service(addr));
        Farm {
            sim,
            addr,
            _running: running,
        }
    }

    /// A farm named `name` with no sessions, whose servers are at `server_address`.
    pub fn empty(name: &str, pre_xd7: bool, server_address: &str) -> Farm {
        let mut config = FarmSimConfig::new(name, pre_xd7);
        config.server_address = server_address.to_string();
        Farm::start(FarmSim::new(config))
    }

    /// The demo farm "DemoFarm" (see [`FarmSim::demo`] for its sessions).
    pub fn demo(pre_xd7: bool) -> Farm {
        Farm::start(FarmSim::demo("DemoFarm", pre_xd7))
    }

    /// The session of `app` as the farm sees it now.
    pub fn session(&self, app: &str) -> FarmSessionSnapshot {
        self.sim
            .sessions()
            .into_iter()
            .find(|s| s.app == app)
            .unwrap_or_else(|| panic!("no {app} session on {}", self.sim.config().name))
    }

    /// Whether the session of `app` is active now.
    pub fn active(&self, app: &str) -> bool {
        self.session(app).active
    }

    /// Bodies of the NFuse requests of one kind the farm received.
    pub fn received(&self, kind: &str) -> Vec<String> {
        self.sim
            .requests()
            .into_iter()
            .filter(|r| r.kind == kind)
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect()
    }

    /// POST an NFuse body to the XML service.
    pub fn post(&self, body: &str) -> Response {
        self.post_to("/scripts/wpnbr.dll", body.as_bytes())
    }

    /// POST `body` as `text/xml` to `path` on the farm, on a connection of its own.
    pub fn post_to(&self, path: &str, body: &[u8]) -> Response {
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        send(self.addr, &req)
    }
}

pub fn secret_path() -> String {
    format!(
        "{}/tests/fixtures/identity/hs256.secret",
        env!("CARGO_MANIFEST_DIR")
    )
}

pub fn secret() -> Vec<u8> {
    sessiongate::identity::read_secret(std::path::Path::new(&secret_path())).unwrap()
}

/// A valid token for `user`.
pub fn token(user: &str) -> String {
    token_with_sids(user, &[])
}

/// A valid token for `user` carrying `sids`.
pub fn token_with_sids(user: &str, sids: &[String]) -> String {
    let t = sessiongate::identity::mint_hs256(
        &secret(),
        user,
        Some(AUDIENCE),
        Duration::from_secs(600),
        sids,
    )
    .unwrap();
    format!("CitrixAuth {t}")
}

/// A token for alice signed with the right key, expiring `exp_offset` seconds from now (negative:
/// in the past) and made for audience `aud`.
pub fn token_with_claims(exp_offset: i64, aud: &str) -> String {
    let exp = unix_now() as i64 + exp_offset;
    let claims = serde_json::json!({"sub": ALICE_SAM, "aud": aud, "exp": exp});
    let t = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&secret()),
    )
    .unwrap();
    format!("CitrixAuth {t}")
}

/// A token for alice that is valid in every way but signed with another key.
pub fn token_signed_with(key: &[u8]) -> String {
    let t = sessiongate::identity::mint_hs256(
        key,
        ALICE_SAM,
        Some(AUDIENCE),
        Duration::from_secs(600),
        &[],
    )
    .unwrap();
    format!("CitrixAuth {t}")
}

/// One farm entry of the store: name, brokers, extra YAML lines (indented 8 spaces).
pub struct FarmEntry<'a> {
    pub name: &'a str,
    pub brokers: Vec<SocketAddr>,
    pub extra: &'a str,
}

/// The entry for `farm`, named as its simulator (the simulator's name is the farm's name
/// everywhere in these tests), with `farm` as its only broker.
pub fn entry<'a>(farm: &'a Farm, extra: &'a str) -> FarmEntry<'a> {
    FarmEntry {
        name: &farm.sim.config().name,
        brokers: vec![farm.addr],
        extra,
    }
}

/// The store's `identity` section for HS256 tokens signed with [`secret`] for [`AUDIENCE`].
pub fn jwt_identity() -> String {
    format!(
        "      jwt:\n        algorithm: HS256\n        key_file: {}\n        audience: [{AUDIENCE}]\n        leeway_seconds: 0\n",
        secret_path()
    )
}

/// The store's `identity` section for tokens checked at the RFC 7662 endpoint `url`.
pub fn introspection_identity(url: &str) -> String {
    format!("      introspection:\n        url: {url}\n        timeout_ms: 500\n")
}

/// A farm-backed store at [`STORE`] named `name` (plus `store_extra`, indented 4 spaces) checking
/// tokens as [`jwt_identity`] says, and the top-level session-id key.
pub fn farm_store(name: &str, farms: &[FarmEntry<'_>], store_extra: &str) -> String {
    farm_store_with_identity(name, farms, store_extra, &jwt_identity())
}

/// [`farm_store`] with another token source (`identity`, indented 6 spaces). Farm timeouts default
/// to test-sized values unless a farm's `extra` sets them.
pub fn farm_store_with_identity(
    name: &str,
    farms: &[FarmEntry<'_>],
    store_extra: &str,
    identity: &str,
) -> String {
    let mut yaml = farm_store_item(STORE, name, farms, store_extra, identity);
    yaml.push_str(&format!("session_id_key_file: {}\n", secret_path()));
    yaml
}

/// The list item of a farm-backed store at `path` (public URL on ws.example.com), without the
/// top-level session-id key: for configurations with several stores. Arguments as
/// [`farm_store_with_identity`].
pub fn farm_store_item(
    path: &str,
    name: &str,
    farms: &[FarmEntry<'_>],
    store_extra: &str,
    identity: &str,
) -> String {
    let mut yaml = format!(
        "  - path: {path}\n    name: {name}\n    public_url: https://ws.example.com{path}\n{store_extra}    identity:\n{identity}      domain: CORP\n      sids_claim: sids\n    farms:\n"
    );
    for f in farms {
        let brokers: Vec<String> = f.brokers.iter().map(|b| format!("\"{b}\"")).collect();
        yaml.push_str(&format!(
            "      - name: {}\n        brokers: [{}]\n{}",
            f.name,
            brokers.join(", "),
            f.extra
        ));
        for (key, value) in [
            ("connect_timeout_ms", "500"),
            ("timeout_ms", "1000"),
            ("health_check_interval_ms", "0"),
        ] {
            if !f.extra.contains(key) {
                yaml.push_str(&format!("        {key}: {value}\n"));
            }
        }
    }
    yaml
}

/// A gateway with one farm-backed store. Metrics are process-wide and tests run in parallel, so
/// each store gets its own name; samples are written with `store="legacy"` and mapped to it.
pub struct Legacy {
    gw: Gateway,
    store: String,
}

impl std::ops::Deref for Legacy {
    type Target = Gateway;
    fn deref(&self) -> &Gateway {
        &self.gw
    }
}

impl Legacy {
    /// [`Gateway::metric`] for a sample written with `store="legacy"`.
    pub fn metric(&self, sample: &str, expected: f64) -> f64 {
        let sample = sample.replace("store=\"legacy\"", &format!("store=\"{}\"", self.store));
        self.gw.metric(&sample, expected)
    }
}

/// A gateway with the store of [`farm_store`] in front of `farms`, under a fresh store name.
pub fn gateway(farms: &[FarmEntry<'_>], store_extra: &str) -> Legacy {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let store = format!("legacy{n}");
    Legacy {
        gw: Gateway::start_with_stores(&farm_store(&store, farms, store_extra)),
        store,
    }
}

/// POST a Sessions Service operation `op` of the farm store.
pub fn post(gw: &Gateway, op: &str, auth: &str, accept: &str, body: &str) -> Response {
    send(
        gw.addr,
        &sessions_post(&format!("{STORE}/sessions/v1/{op}"), auth, accept, body),
    )
}

/// List sessions at the farm store.
pub fn list(gw: &Gateway, auth: &str, body: &str) -> Response {
    post(gw, "available", auth, SESSION_STATE, body)
}

/// Launch the session behind a listed launch `url` from client "NEW-DEVICE".
pub fn launch(gw: &Gateway, url: &str, auth: &str) -> Response {
    let path = url.strip_prefix("https://ws.example.com").unwrap();
    send(
        gw.addr,
        &request(
            "POST",
            path,
            &[
                ("Authorization", auth),
                ("Accept", LAUNCH_DATA),
                ("Content-Type", LAUNCH_PARAMS),
            ],
            &launch_params("NEW-DEVICE"),
        ),
    )
}

/// (publishername, launch URL) of every listed session.
pub fn listed(xml: &str) -> Vec<(String, String)> {
    xml.split("<session ")
        .skip(1)
        .map(|s| {
            let publisher = s
                .split("<publishername>")
                .nth(1)
                .and_then(|p| p.split("</publishername>").next())
                .unwrap_or_default()
                .to_string();
            let url = super::urls(s).into_iter().next().unwrap_or_default();
            (publisher, url)
        })
        .collect()
}

/// Session parameters of `client` asking for active sessions too.
pub fn active_params(client: &str) -> String {
    super::params(
        client,
        "<includeActiveSessions>true</includeActiveSessions>",
    )
}
