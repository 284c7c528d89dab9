//! XML relays in tests: a gateway whose only work is one relay in front of simulated farms, on
//! pre-bound loopback ports; NFuse request bodies as real clients write them; requests from the
//! trusted (127.0.0.2) or the untrusted (127.0.0.1) side (lint allowances come from `mod.rs`).

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use sessiongate::server::{wait_for_listener, Handoff, Running};

use super::canary::send_from;
use super::{listener, poll_until, send, Response};

/// The source address the relays of these tests trust.
pub const TRUSTED: &str = "127.0.0.2";
/// Any other loopback address is untrusted; this one is the system's default.
pub const UNTRUSTED: &str = "127.0.0.1";
/// The relay's path as nmap spells it.
pub const NMAP_PATH: &str = "/scripts/WPnBr.dll";

/// No health checks (a farm line).
pub const NO_CHECKS: &str = "      health_check_interval_ms: 0\n";

/// A running gateway with one XML relay.
pub struct Relay {
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    _running: Running,
}

impl Relay {
    /// A relay to `brokers` of farm `name` (a metric label: one per test), trusting 127.0.0.2;
    /// `farm` and `relay` are more YAML lines under the farm (6 spaces) and under the relay (4).
    pub fn start(name: &str, brokers: &[SocketAddr], farm: &str, relay: &str) -> Relay {
        Relay::start_with(name, brokers, farm, relay, None)
    }

    /// [`Relay::start`], serving HTTPS with `tls` (certificate file, key file) when given.
    pub fn start_with(
        name: &str,
        brokers: &[SocketAddr],
        farm: &str,
        relay: &str,
        tls: Option<(&Path, &Path)>,
    ) -> Relay {
        let (client, admin_l, relay_l) = (listener(), listener(), listener());
        let (addr, admin) = (relay_l.local_addr().unwrap(), admin_l.local_addr().unwrap());
        let listen = client.local_addr().unwrap();
        let handoff = Handoff::start(vec![client, admin_l, relay_l]).expect("hand-over");
        let brokers: Vec<String> = brokers.iter().map(|b| format!("\"{b}\"")).collect();
        // The farm's own answer timeout when the test sets one.
        let timeout = if farm.contains("timeout_ms:") {
            ""
        } else {
            "      timeout_ms: 2000\n"
        };
        let listen_yaml = match tls {
            None => format!("\"{addr}\""),
            Some((cert, key)) => format!(
                "{{address: \"{addr}\", certificate_file: \"{}\", key_file: \"{}\"}}",
                cert.display(),
                key.display()
            ),
        };
        let yaml = format!(
            "listen: [\"{listen}\"]\nadmin_listen: \"{admin}\"\nthreads: 1\ngrace_period_seconds: 0\nupgrade_socket: {}\nxml_relays:\n  - listen: {listen_yaml}\n    trusted_networks: [\"{TRUSTED}/32\"]\n{relay}    farm:\n      name: {name}\n      brokers: [{}]\n      connect_timeout_ms: 500\n{timeout}{farm}",
            handoff.socket().display(),
            brokers.join(", ")
        );
        let config = sessiongate::config::from_yaml(&yaml, "test").expect("test config");
        let server = sessiongate::server::build(&config, Some(Handoff::opt())).expect("server");
        drop(handoff);
        let running = Running::spawn(server);
        assert!(
            wait_for_listener(addr, Duration::from_secs(10)),
            "relay did not start"
        );
        Relay {
            addr,
            admin,
            _running: running,
        }
    }

    /// A relay to one broker without health checks.
    pub fn to(name: &str, broker: SocketAddr) -> Relay {
        Relay::start(name, &[broker], "      health_check_interval_ms: 0\n", "")
    }

    /// POST `body` from the trusted side.
    pub fn trusted(&self, body: &str) -> Response {
        send_from(ip(TRUSTED), self.addr, &post(NMAP_PATH, body.as_bytes()))
    }

    /// POST `body` from the untrusted side.
    pub fn untrusted(&self, body: &str) -> Response {
        send_from(ip(UNTRUSTED), self.addr, &post(NMAP_PATH, body.as_bytes()))
    }

    /// The value of one sample of the admin listener's `/metrics`, waited for up to 2 s to
    /// become `expected` (metrics are recorded just after the answer is written).
    pub fn metric(&self, sample: &str, expected: f64) -> f64 {
        let read = || {
            let page = send(self.admin, &super::get("/metrics")).text();
            page.lines()
                .find_map(|l| l.strip_prefix(sample).and_then(|v| v.strip_prefix(' ')))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0.0)
        };
        poll_until(Duration::from_secs(2), read, |v| *v == expected)
    }
}

pub fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// A POST of `body` as `text/xml` to `path`, as nmap sends it.
pub fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: relay.test\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// An NFuse document around `request`, with nmap's prolog.
pub fn nfuse(version: &str, request: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\r\n<!DOCTYPE NFuseProtocol SYSTEM \"NFuse.dtd\">\r\n<NFuseProtocol version=\"{version}\">{request}</NFuseProtocol>\r\n")
}

/// nmap's `citrix-enum-apps-xml` request: every application with its ACL, no credentials.
pub fn app_data_acl() -> String {
    nfuse("5.0", "<RequestAppData><Scope traverse=\"onelevel\" /><ServerType>all</ServerType><ClientType>ica30</ClientType><DesiredDetails>all</DesiredDetails><DesiredDetails>access-list</DesiredDetails></RequestAppData>")
}

/// nmap's `citrix-enum-servers-xml` request.
pub fn server_data() -> String {
    nfuse("1.1", "<RequestServerData><ServerType>all</ServerType><ClientType>all</ClientType></RequestServerData>")
}

pub fn farm_data() -> String {
    nfuse(
        "1.1",
        "<RequestServerFarmData><Nil/></RequestServerFarmData>",
    )
}

pub fn capabilities() -> String {
    nfuse("1.1", "<RequestCapabilities></RequestCapabilities>")
}

/// nmap's `citrix-brute-xml` request.
pub fn validate(user: &str, password: &str) -> String {
    nfuse("5.0", &format!("<RequestValidateCredentials><Credentials><UserName>{user}</UserName><Password encoding=\"cleartext\">{password}</Password><Domain type=\"NT\">CORP</Domain></Credentials></RequestValidateCredentials>"))
}

/// Web Interface's logon listing with identity-only credentials, active sessions included,
/// from `client`.
pub fn reconnect_data(sam: &str, client: &str) -> String {
    nfuse("5.0", &format!("<RequestReconnectSessionData><Credentials><ID type=\"SAM\">{sam}</ID></Credentials><ClientName>{client}</ClientName><ServerType>all</ServerType><ClientType>ica30</ClientType><SessionType>active</SessionType><SessionType>disconnected</SessionType></RequestReconnectSessionData>"))
}

/// Disconnect every session of `sam` from `client`.
pub fn disconnect(sam: &str, client: &str) -> String {
    nfuse("5.0", &format!("<RequestDisconnectUserSessions><Credentials><ID type=\"SAM\">{sam}</ID></Credentials><ClientName>{client}</ClientName><ServerType>all</ServerType><ClientType>ica30</ClientType></RequestDisconnectUserSessions>"))
}

/// The `ErrorId` of an NFuse answer inside `element`, if any.
pub fn error_id(r: &Response, element: &str) -> Option<String> {
    let text = r.text();
    let inner = text.split(&format!("<{element}>")).nth(1)?;
    let inner = inner.split(&format!("</{element}>")).next()?;
    let id = inner
        .split("<ErrorId>")
        .nth(1)?
        .split("</ErrorId>")
        .next()?;
    Some(id.to_string())
}
