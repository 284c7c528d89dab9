//! `sessiongate demo`: the embedded default configuration (`conf/demo.yaml`) in front of a
//! simulated StoreFront store (a stable server and a canary server, each naming itself in an
//! `x-sim-server` header) and two simulated legacy farms, with commands to paste into a shell.
//!
//! The demo needs secrets (the token-signing key, the session-id key, the launch-tag key of the
//! canary): it writes fresh random ones into a private directory at each start, so no key in
//! it is ever shared with a real deployment, and mints a token for the demo user with the first.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use ring::rand::{SecureRandom, SystemRandom};

use self::canary::CanaryDemo;
use crate::identity;
use crate::routing::canary::PoolName;
use crate::sim::farm::FarmSim;
use crate::sim::storefront::StoreFrontSim;
use crate::{config, server};

pub mod canary;

/// The embedded default configuration.
pub const DEMO_CONFIG: &str = include_str!("../conf/demo.yaml");
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:9100";
pub const DEFAULT_STOREFRONT_LISTEN: &str = "127.0.0.1:8081";
pub const DEFAULT_CANARY_LISTEN: &str = "127.0.0.1:8084";
pub const DEFAULT_FARM1_LISTEN: &str = "127.0.0.1:8082";
pub const DEFAULT_FARM2_LISTEN: &str = "127.0.0.1:8083";
pub const DEFAULT_RELAY_LISTEN: &str = "127.0.0.1:8085";
/// Where the configuration names the demo's key directory.
const KEYS_PLACEHOLDER: &str = "@KEYS@";
const TOKEN_KEY_FILE: &str = "token-signing.key";
const SESSION_ID_KEY_FILE: &str = "session-id.key";
const LAUNCH_KEY_FILE: &str = "launch-tag.key";
/// The demo's farm user and the audience its token is minted for.
const DEMO_USER: &str = "CORP\\alice";
const DEMO_AUDIENCE: &str = "sessiongate-demo";
/// Lifetime of the minted demo token.
const DEMO_TOKEN_TTL: Duration = Duration::from_secs(8 * 3600);

/// Where the demo's gateway and simulators listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addresses {
    /// Client-facing listener of the gateway.
    pub listen: String,
    /// Admin listener (/metrics, /healthz, /readyz).
    pub admin_listen: String,
    /// The simulated StoreFront server (the stable pool of the demo store).
    pub storefront_listen: String,
    /// The second simulated StoreFront server (the canary pool of the demo store).
    pub canary_listen: String,
    /// The first simulated legacy farm (XA65, pre-XenDesktop 7).
    pub farm1_listen: String,
    /// The second simulated legacy farm (XD7).
    pub farm2_listen: String,
    /// The XML relay in front of the XA65 farm.
    pub relay_listen: String,
}

/// The demo configuration with the addresses of `args` and key files in `keys`.
pub fn config_text(args: &Addresses, keys: &Path) -> String {
    DEMO_CONFIG
        .replace(DEFAULT_LISTEN, &args.listen)
        .replace(DEFAULT_ADMIN_LISTEN, &args.admin_listen)
        .replace(DEFAULT_STOREFRONT_LISTEN, &args.storefront_listen)
        .replace(DEFAULT_CANARY_LISTEN, &args.canary_listen)
        .replace(DEFAULT_FARM1_LISTEN, &args.farm1_listen)
        .replace(DEFAULT_FARM2_LISTEN, &args.farm2_listen)
        .replace(DEFAULT_RELAY_LISTEN, &args.relay_listen)
        .replace(KEYS_PLACEHOLDER, &keys.display().to_string())
}

/// Write fresh random keys into `dir` (created, private to the user).
pub fn write_keys(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let rng = SystemRandom::new();
    for name in [TOKEN_KEY_FILE, SESSION_ID_KEY_FILE, LAUNCH_KEY_FILE] {
        let mut secret = [0u8; 32];
        rng.fill(&mut secret)
            .map_err(|_| anyhow::anyhow!("no random bytes from the system"))?;
        // Hex, so the file is printable and can be passed around like an operator's key.
        let text: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        let path = dir.join(name);
        std::fs::write(&path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// A token for the demo user, signed with the demo's key.
pub fn demo_token(keys: &Path) -> anyhow::Result<String> {
    let secret = identity::read_secret(&keys.join(TOKEN_KEY_FILE))?;
    Ok(identity::mint_hs256(
        &secret,
        DEMO_USER,
        Some(DEMO_AUDIENCE),
        DEMO_TOKEN_TTL,
        &[],
    )?)
}

fn params(client: &str, extra: &str) -> String {
    format!(
        "'<sessionparams xmlns=\"http://citrix.com/delivery-services/1-0/sessionparams\"><clientName>{client}</clientName>{extra}</sessionparams>'"
    )
}

const SESSION_HEADERS: &str = "-H 'Content-Type: application/vnd.citrix.sessionparams+xml'";
const LAUNCH_BODY: &str = "'<launchparams xmlns=\"http://citrix.com/delivery-services/1-0/launchparams\"><clientName>NEW-DEVICE</clientName></launchparams>'";

/// The commands printed for the user, in order.
pub fn instructions(
    public_url: &str,
    legacy_url: &str,
    admin: &str,
    notepad_session: &str,
    token: &str,
) -> String {
    let sessions = format!("{public_url}/sessions/v1");
    let legacy = format!("{legacy_url}/sessions/v1");
    let auth = |t: &str| format!("-H 'Authorization: CitrixAuth {t}'");
    format!(
        "sessiongate demo: gateway on {public_url} and {legacy_url}, admin on http://{admin}\n\
         StoreFront-backed store: users alice (token demo-token-alice), bob (token demo-token-bob).\n\
         Farm-backed store (farms XA65, pre-XenDesktop 7, and XD7): user CORP\\alice with the token below.\n\
         Try, in another shell:\n\n\
         # 1. List alice's sessions from a new device (disconnected ones, and active ones elsewhere):\n\
         curl -s -X POST {sessions}/available {a} -H 'Accept: application/vnd.citrix.sessionstate+xml' {SESSION_HEADERS} --data {list}\n\n\
         # 2. Reconnect to the disconnected Notepad session through the launch URL of the list (answer: an ICA file):\n\
         curl -s -X POST {sessions}/{notepad_session}/launch/ica {a} -H 'Accept: application/vnd.citrix.launchdata+xml' -H 'Content-Type: application/vnd.citrix.launchparams+xml' --data {LAUNCH_BODY}\n\n\
         # 3. Disconnect alice's sessions on that device:\n\
         curl -s -X POST {sessions}/disconnect {a} -H 'Accept: application/vnd.citrix.sessionresults+xml' {SESSION_HEADERS} --data {plain}\n\n\
         # 4. No token: the gateway answers 401 with a CitrixAuth challenge:\n\
         curl -si -X POST {sessions}/available {SESSION_HEADERS} --data {plain}\n\n\
         # 5. The legacy farms, merged into one list. Active sessions are asked for, but the XA65 farm\n\
         #    would disconnect them, so the gateway strips the question there (see metric 7):\n\
         TOKEN='{token}'\n\
         curl -s -X POST {legacy}/available -H \"Authorization: CitrixAuth $TOKEN\" -H 'Accept: application/vnd.citrix.sessionstate+xml' {SESSION_HEADERS} --data {list}\n\n\
         # 6. Launch one of them: copy a launchIca URL from the answer of 5, then\n\
         curl -s -X POST PASTE-THE-URL -H \"Authorization: CitrixAuth $TOKEN\" -H 'Accept: application/vnd.citrix.launchdata+xml' -H 'Content-Type: application/vnd.citrix.launchparams+xml' --data {LAUNCH_BODY}\n\n\
         # 7. What the gateway counted:\n\
         curl -s http://{admin}/metrics | grep '^sessiongate_'\n",
        a = auth("demo-token-alice"),
        list = params("NEW-DEVICE", "<includeActiveSessions>true</includeActiveSessions>"),
        plain = params("NEW-DEVICE", ""),
    )
}

/// The relay step: Web Interface's logon listing (active sessions included) for alice, through
/// the XML relay in front of XA65, then what the safeguard counted.
pub fn relay_instructions(relay: &str, admin: &str, step: usize) -> String {
    format!(
        "# {step}. StoreFront's own NFuse traffic through the XML relay on {relay}, in front of XA65. Web Interface asks for\n\
         #     alice's active sessions too, which would disconnect her Excel there; the relay asks for disconnected ones only\n\
         #     (Excel stays active and out of the answer), and counts it:\n\
         curl -s -X POST http://{relay}/scripts/wpnbr.dll -H 'Content-Type: text/xml' --data '{RELAY_BODY}'; echo; curl -s http://{admin}/metrics | grep '^sessiongate_relay_active_session_queries_total'\n"
    )
}

/// The request of the relay step.
const RELAY_BODY: &str = "<NFuseProtocol version=\"5.0\"><RequestReconnectSessionData><Credentials><ID type=\"SAM\">CORP\\alice</ID></Credentials><ClientName>KIOSK</ClientName><ServerType>all</ServerType><ClientType>ica30</ClientType><SessionType>active</SessionType><SessionType>disconnected</SessionType></RequestReconnectSessionData></NFuseProtocol>";

/// The last line the demo prints.
pub const DEMO_END: &str = "# Ctrl-C stops the demo.";

/// What the canary commands need, from the demo store's configuration.
fn canary_demo<'a>(
    config: &'a config::Config,
    sessions: &'a str,
    args: &'a Addresses,
) -> CanaryDemo<'a> {
    let store = config.stores.first();
    let canary = store.and_then(|s| match &s.backend {
        config::Backend::StoreFront(sf) => sf.canary.as_ref(),
        config::Backend::Farms(_) => None,
    });
    CanaryDemo {
        sessions,
        admin: &args.admin_listen,
        canary_sim: &args.canary_listen,
        store_path: store.map_or("", |s| s.path.as_str()),
        share: canary.map_or(0.0, |c| c.share_percent),
        force_header: canary
            .and_then(|c| c.force.as_ref())
            .and_then(|f| f.header.as_deref())
            .unwrap_or("x-sessiongate-pool"),
        min_requests: canary
            .and_then(|c| c.guard.as_ref())
            .map_or(20, |g| g.min_canary_requests),
    }
}

/// A private directory for this run's keys.
fn keys_dir() -> PathBuf {
    std::env::temp_dir().join(format!("sessiongate-demo-{}", std::process::id()))
}

/// Start a simulator service and wait until it accepts connections.
fn start(
    what: &str,
    listen: &str,
    service: impl pingora::services::ServiceWithDependents + 'static,
) -> anyhow::Result<server::Running> {
    let addr: SocketAddr = listen
        .parse()
        .with_context(|| format!("the {what} address must be ip:port"))?;
    let running = server::Running::spawn(server::standalone(service, None));
    if !server::wait_for_listener(addr, Duration::from_secs(5)) {
        anyhow::bail!("the {what} did not start on {addr}");
    }
    Ok(running)
}

/// Start the simulators and the gateway; returns when the gateway is told to stop (Ctrl-C).
pub fn run(args: &Addresses) -> anyhow::Result<()> {
    let keys = keys_dir();
    write_keys(&keys)?;
    let config = config::from_yaml(&config_text(args, &keys), "embedded demo configuration")?;

    let sim = StoreFrontSim::demo();
    sim.set_server_name(PoolName::Stable.as_str());
    let _sim = start(
        "simulated StoreFront server",
        &args.storefront_listen,
        sim.service(&args.storefront_listen),
    )?;
    // Its own sessions (other ids): the canary is another server group of the same store.
    let canary_sim = StoreFrontSim::demo();
    canary_sim.set_server_name(PoolName::Canary.as_str());
    let _canary_sim = start(
        "simulated StoreFront canary server",
        &args.canary_listen,
        canary_sim.service(&args.canary_listen),
    )?;
    let xa65 = FarmSim::demo("XA65", true);
    let _xa65 = start(
        "simulated XA65 farm",
        &args.farm1_listen,
        xa65.service(&args.farm1_listen),
    )?;
    let xd7 = FarmSim::demo("XD7", false);
    let _xd7 = start(
        "simulated XD7 farm",
        &args.farm2_listen,
        xd7.service(&args.farm2_listen),
    )?;

    let notepad = sim
        .sessions()
        .into_iter()
        .find(|s| s.app == "Notepad")
        .map(|s| s.id)
        .unwrap_or_default();
    let url = |i: usize| {
        config
            .stores
            .get(i)
            .map(|s| s.public_url.clone())
            .unwrap_or_default()
    };
    let token = demo_token(&keys)?;
    // Whoever started the demo may stop reading its output; that must not stop the gateway.
    let mut out = std::io::stdout().lock();
    let sessions = format!("{}/sessions/v1", url(0));
    let canary = canary_demo(&config, &sessions, args);
    let _ = writeln!(
        out,
        "{}\n{}\n{}\n{DEMO_END}",
        instructions(&url(0), &url(1), &args.admin_listen, &notepad, &token),
        canary::instructions(&canary, 8),
        relay_instructions(&args.relay_listen, &args.admin_listen, 13),
    )
    .and_then(|()| out.flush());
    drop(out);
    let gateway = server::build(&config, None)?;
    gateway.run_forever()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_is_valid_with_other_addresses() {
        let args = Addresses {
            listen: "127.0.0.1:18080".into(),
            admin_listen: "127.0.0.1:19100".into(),
            storefront_listen: "127.0.0.1:18081".into(),
            canary_listen: "127.0.0.1:18084".into(),
            farm1_listen: "127.0.0.1:18082".into(),
            farm2_listen: "127.0.0.1:18083".into(),
            relay_listen: "127.0.0.1:18085".into(),
        };
        let keys =
            std::env::temp_dir().join(format!("sessiongate-demo-test-{}", std::process::id()));
        write_keys(&keys).unwrap();
        let c = config::from_yaml(&config_text(&args, &keys), "demo").unwrap();
        assert_eq!(c.listen, vec!["127.0.0.1:18080".parse().unwrap()]);
        assert_eq!(
            c.stores[0].public_url,
            "http://127.0.0.1:18080/Citrix/Store"
        );
        let config::Backend::StoreFront(sf) = &c.stores[0].backend else {
            panic!("the first demo store is StoreFront-backed");
        };
        let canary = sf.canary.as_ref().unwrap();
        assert_eq!(canary.upstreams, vec!["127.0.0.1:18084".to_string()]);
        assert!(canary.launch_key_file.starts_with(&keys));
        let config::Backend::Farms(farms) = &c.stores[1].backend else {
            panic!("the second demo store is farm-backed");
        };
        assert_eq!(farms.list[1].brokers, vec!["127.0.0.1:18083".to_string()]);
        assert!(!demo_token(&keys).unwrap().is_empty());
        std::fs::remove_dir_all(&keys).unwrap();
    }
}
