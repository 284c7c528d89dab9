//! A simulated legacy XenApp/XenDesktop farm: the Citrix XML service ("XML broker", NFuse
//! protocol) as a real HTTP server (a Pingora [`HttpServerApp`]) with state, for
//! `sessiongate demo` and the integration tests.
//!
//! It answers `POST /scripts/wpnbr.dll` (any case) with the NFuse requests a gateway needs for
//! workspace control: `RequestServerFarmData` (a health check), `RequestReconnectSessionData`,
//! `RequestDisconnectUserSessions`, `RequestLogoffUserSessions`, `RequestAddress` and
//! `RequestTicket`; and with those real clients send for enumeration and logon:
//! `RequestAppData` (every application without credentials, with their ACLs when asked),
//! `RequestServerData`, `RequestCapabilities` and `RequestValidateCredentials`. It knows no
//! password: every password logon fails (`failed-credentials`). It behaves as the reference notes (`citrix-protocols.md` §1) describe a
//! broker: errors as HTTP 200 with `<ErrorId>`, identity-only credentials only when XML requests
//! are trusted, requests over 4 KB refused, ISO-8859-1 bodies from pre-XenDesktop-7 farms, and
//! the pre-XenDesktop-7 hazard (listing active sessions disconnects them). Tests can inspect its
//! state and the requests it got, slow it down and inject faults.
//!
//! This is an implementation of its own, independent of the gateway's NFuse client, so that a
//! misreading on either side shows up in the tests.
//!
//! - `state`: sessions, hosts, tickets and the workspace-control rules (no I/O).
//! - `http`: framing checks, request parsing, answer documents and the Pingora app.
//! - `catalog`: the answers about applications, servers and capabilities.
//!
//! [`HttpServerApp`]: pingora::apps::HttpServerApp

mod catalog;
mod documents;
mod http;
mod request;
mod state;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use pingora::listeners::tls::TlsSettings;
use pingora::services::listening::Service;

pub use self::http::FarmApp;
use self::state::Farm;

/// Requests kept by [`FarmSim::requests`]; older ones are dropped.
pub const MAX_RECORDED_REQUESTS: usize = 256;
/// The IMA host id of the first server, as in the Web Interface captures.
pub const DEFAULT_FIRST_HOST_ID: u32 = 23363;
/// The XML service's default request-size limit (CTX943036: "larger than 4 KB").
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 4096;

/// How the simulated farm is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FarmSimConfig {
    /// `ServerFarmName`, answered to `RequestServerFarmData`.
    pub name: String,
    /// A farm older than XenDesktop 7: NFuse 4.7, ISO-8859-1 answers, and listing active
    /// sessions disconnects them.
    pub pre_xd7: bool,
    /// "Trust XML requests": identity-only (`<ID type="SAM">`) credentials are accepted.
    pub trust_xml: bool,
    /// Answered by `RequestAddress` (`addresstype="dot-port"`).
    pub server_address: String,
    /// Larger request bodies are refused with HTTP 400.
    pub max_request_bytes: usize,
    /// IMA host id of the first server; the next applications get the following ids.
    pub first_host_id: u32,
}

impl FarmSimConfig {
    /// A farm named `name`, trusting XML requests, server address `10.0.0.5:1494`, the 4 KB
    /// request limit and host ids from 23363.
    pub fn new(name: &str, pre_xd7: bool) -> Self {
        FarmSimConfig {
            name: name.to_string(),
            pre_xd7,
            trust_xml: true,
            server_address: "10.0.0.5:1494".to_string(),
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            first_host_id: DEFAULT_FIRST_HOST_ID,
        }
    }
}

/// One session as the farm sees it (a copy; changing it changes nothing in the simulator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FarmSessionSnapshot {
    /// `DOMAIN\user` as given when the session was added.
    pub user: String,
    /// The published application (`InName`).
    pub app: String,
    /// IMA host id of the server running it (decimal).
    pub host_id: String,
    /// Session id on that server (decimal; unique per host only).
    pub session_id: String,
    /// Client the session is (or was last) connected to.
    pub client_name: String,
    /// Device id of that client, when known.
    pub device_id: Option<String>,
    /// `true`: connected; `false`: disconnected.
    pub active: bool,
}

/// A request as the simulator received it.
#[derive(Debug, Clone)]
pub struct FarmRequest {
    /// The `Request*` element name, or `""` if the body could not be read as an NFuse request.
    pub kind: String,
    /// The body as received (at most 64 KiB of it are kept).
    pub body: Vec<u8>,
    /// The `Content-Length` header, when present and valid.
    pub content_length: Option<usize>,
    /// The body came with `Transfer-Encoding: chunked`.
    pub chunked: bool,
}

/// A fault the simulator injects into every answer (see [`FarmSim::set_fault`]). A faulty
/// answer does not change any state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FarmFault {
    /// HTTP 200 with a well-formed NFuse answer carrying this `ErrorId`.
    ErrorId(String),
    /// HTTP 200 with a body that is not well-formed XML.
    GarbageBody,
    /// This HTTP status with a short text body.
    Status(u16),
    /// Close the connection without answering.
    Close,
}

/// Mutable state behind the lock.
#[derive(Debug)]
struct Inner {
    farm: Farm,
    trust_xml: bool,
    requests: VecDeque<FarmRequest>,
    request_count: usize,
    delay: Duration,
    fault: Option<FarmFault>,
}

/// The simulated farm. Share it as an `Arc`: the HTTP service and the tests hold the same one.
#[derive(Debug)]
pub struct FarmSim {
    config: FarmSimConfig,
    inner: Mutex<Inner>,
}

/// The listening service of the simulator.
pub type FarmService = Service<FarmApp>;

impl FarmSim {
    /// A farm with `config` and no sessions.
    pub fn new(config: FarmSimConfig) -> Arc<FarmSim> {
        let inner = Inner {
            farm: Farm::new(config.first_host_id),
            trust_xml: config.trust_xml,
            requests: VecDeque::new(),
            request_count: 0,
            delay: Duration::ZERO,
            fault: None,
        };
        Arc::new(FarmSim {
            config,
            inner: Mutex::new(inner),
        })
    }

    /// The demo farm `name`. Seeded with, for `CORP\alice`: a disconnected "Notepad" (last on
    /// "alice-laptop") and an active "Excel" on "alice-desktop"; for `CORP\bob`: a disconnected
    /// "Calculator" (last on "bob-pc").
    pub fn demo(name: &str, pre_xd7: bool) -> Arc<FarmSim> {
        let sim = FarmSim::new(FarmSimConfig::new(name, pre_xd7));
        sim.add_session("CORP\\alice", "Notepad", "alice-laptop", false);
        sim.add_session("CORP\\alice", "Excel", "alice-desktop", true);
        sim.add_session("CORP\\bob", "Calculator", "bob-pc", false);
        sim
    }

    /// The configuration (as created; see [`FarmSim::set_trust`] for the live trust setting).
    pub fn config(&self) -> &FarmSimConfig {
        &self.config
    }

    /// The Pingora service serving this farm on `listen` (`ip:port`).
    pub fn service(self: &Arc<Self>, listen: &str) -> FarmService {
        let mut service = Service::new("farm-sim".to_string(), FarmApp::new(self.clone()));
        service.add_tcp(listen);
        service
    }

    /// The same over HTTPS with `tls` (the XML service behind IIS or the SSL Relay): how the
    /// tests check the gateway's own TLS to brokers.
    pub fn tls_service(self: &Arc<Self>, listen: &str, tls: TlsSettings) -> FarmService {
        let mut service = Service::new("farm-sim".to_string(), FarmApp::new(self.clone()));
        service.add_tls_with_settings(listen, None, tls);
        service
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not take the simulator down with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Add a session of `user` (`DOMAIN\user`) running `app` on `client_name`, connected
    /// (`active`) or not; returns its (host id, session id).
    pub fn add_session(
        &self,
        user: &str,
        app: &str,
        client_name: &str,
        active: bool,
    ) -> (String, String) {
        let (host, session) = self.lock().farm.add(user, app, client_name, None, active);
        (host.to_string(), session.to_string())
    }

    /// Like [`FarmSim::add_session`], on a client that also has a device id.
    pub fn add_session_on_device(
        &self,
        user: &str,
        app: &str,
        client_name: &str,
        device_id: &str,
        active: bool,
    ) -> (String, String) {
        let (host, session) = self
            .lock()
            .farm
            .add(user, app, client_name, Some(device_id), active);
        (host.to_string(), session.to_string())
    }

    /// A copy of every session, in creation order.
    pub fn sessions(&self) -> Vec<FarmSessionSnapshot> {
        self.lock().farm.snapshots()
    }

    /// The last [`MAX_RECORDED_REQUESTS`] requests, oldest first.
    pub fn requests(&self) -> Vec<FarmRequest> {
        self.lock().requests.iter().cloned().collect()
    }

    /// How many requests the simulator received since it started.
    pub fn request_count(&self) -> usize {
        self.lock().request_count
    }

    /// Logon tickets issued by `RequestTicket`, oldest first.
    pub fn issued_tickets(&self) -> Vec<String> {
        self.lock().farm.tickets().to_vec()
    }

    /// Wait this long before answering any request (zero: answer at once).
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    /// Inject `fault` into every answer (`None`: behave).
    pub fn set_fault(&self, fault: Option<FarmFault>) {
        self.lock().fault = fault;
    }

    /// Turn "Trust XML requests" on or off.
    pub fn set_trust(&self, trust_xml: bool) {
        self.lock().trust_xml = trust_xml;
    }

    fn record_request(&self, request: FarmRequest) {
        let mut inner = self.lock();
        inner.request_count += 1;
        if inner.requests.len() >= MAX_RECORDED_REQUESTS {
            inner.requests.pop_front();
        }
        inner.requests.push_back(request);
    }
}
