//! A simulated Citrix StoreFront 3.x store: a real HTTP server (a Pingora [`ServeHttp`] app) with
//! state, for `sessiongate demo` and the integration tests.
//!
//! It answers the Sessions Service (`{store}/sessions/v1/available`, `disconnect`, `logoff`,
//! `{store}/session[s]/v1/{id}/launch/ica`), `GET {store}/endpoints/v1`, `{store}/resources/v2`
//! (CitrixAuth protected) and `GET {store}/home` (a redirect), as a store behind a gateway
//! does: every URL it writes is absolute and built from the request's `Host` header, so the
//! gateway has something to rewrite. It can reproduce the pre-XenDesktop-7 hazard (listing
//! active sessions disconnects them), and tests can inspect its state, the requests it got, and
//! inject faults.
//!
//! - `state`: sessions, tickets and the workspace-control rules (no I/O).
//! - `params`: its own strict reader of the request bodies, independent of the gateway's.
//! - `http`: routing, header checks, documents and the Pingora app.
//! - `control`: the fault switch over HTTP (`/__sim/fault`), outside every store path.
//!
//! [`ServeHttp`]: pingora::apps::http_app::ServeHttp

pub mod control;
mod http;
mod params;
mod state;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use pingora::apps::http_app::HttpServer;
use pingora::listeners::tls::TlsSettings;
use pingora::services::listening::Service;

pub use self::http::{SimApp, SERVER_HEADER};
use self::state::{Endpoint, Store};
pub use self::state::{SessionKind, SessionSnapshot};

/// Requests kept by [`StoreFrontSim::requests`]; older ones are dropped.
pub const MAX_RECORDED_REQUESTS: usize = 256;
/// Largest request body the simulator reads; more is answered 413.
pub const MAX_REQUEST_BODY: usize = 64 * 1024;

/// The realm (service id) of the demo store.
pub const DEMO_REALM: &str = "6b78ab94-a709-4e3a-8b9b-a49ca317c70c";
/// The store path of the demo store.
pub const DEMO_STORE_PATH: &str = "/Citrix/Store";

/// How the simulated store is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Base path of the store, e.g. `/Citrix/Store` (no trailing slash).
    pub store_path: String,
    /// CitrixAuth realm of the challenges (a GUID).
    pub realm: String,
    /// Known tokens and the user each stands for.
    pub users: Vec<(String, String)>,
    /// Behave as a pre-XenDesktop-7 farm: `available` with `includeActiveSessions=true`
    /// disconnects the active sessions it lists.
    pub legacy_hazard: bool,
}

/// A fault the simulator injects into its answers (see [`StoreFrontSim::set_fault`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Sessions and endpoints routes answer 200 with a body that is not well-formed XML (the
    /// request does not change any state).
    GarbageBody,
    /// Sessions and endpoints answers carry this `Content-Type` instead of their vnd media
    /// type (the request is processed normally).
    ContentType(String),
    /// Sessions and endpoints routes answer this status with a short text body (the request
    /// does not change any state).
    Status(u16),
}

/// A request as the simulator received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// Header names lowercase, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body (at most [`MAX_REQUEST_BODY`] bytes).
    pub body: Vec<u8>,
}

/// Mutable state behind the lock.
#[derive(Debug, Default)]
struct Inner {
    store: Store,
    requests: VecDeque<RecordedRequest>,
    request_count: usize,
    last_response_body: Option<Vec<u8>>,
    delay: Duration,
    fault: Option<Fault>,
    server_name: Option<String>,
}

/// The simulated store. Share it as an `Arc`: the HTTP service and the tests hold the same one.
#[derive(Debug)]
pub struct StoreFrontSim {
    config: SimConfig,
    inner: Mutex<Inner>,
}

/// The listening service of the simulator.
pub type StoreFrontService = Service<HttpServer<SimApp>>;

impl StoreFrontSim {
    /// A store with `config` and no sessions.
    pub fn new(config: SimConfig) -> Arc<StoreFrontSim> {
        let mut config = config;
        while config.store_path.ends_with('/') {
            config.store_path.pop();
        }
        Arc::new(StoreFrontSim {
            config,
            inner: Mutex::new(Inner::default()),
        })
    }

    /// The demo store (`/Citrix/Store`, users alice and bob) without the legacy hazard.
    pub fn demo() -> Arc<StoreFrontSim> {
        StoreFrontSim::demo_with_hazard(false)
    }

    /// The demo store, with or without the legacy hazard. Seeded with, for alice: a
    /// disconnected "Notepad" (last on LAPTOP-1), an active desktop "Windows 10 Desktop" on
    /// DESKTOP-2, an active "Excel" on LAPTOP-1; for bob: a disconnected "Calculator".
    pub fn demo_with_hazard(legacy_hazard: bool) -> Arc<StoreFrontSim> {
        let sim = StoreFrontSim::new(SimConfig {
            store_path: DEMO_STORE_PATH.to_string(),
            realm: DEMO_REALM.to_string(),
            users: vec![
                ("demo-token-alice".to_string(), "alice".to_string()),
                ("demo-token-bob".to_string(), "bob".to_string()),
            ],
            legacy_hazard,
        });
        sim.add_session("alice", "Notepad", "LAPTOP-1", false);
        sim.add_session_of_kind(
            "alice",
            "Windows 10 Desktop",
            SessionKind::Desktop,
            "DESKTOP-2",
            None,
            true,
        );
        sim.add_session("alice", "Excel", "LAPTOP-1", true);
        sim.add_session("bob", "Calculator", "BOB-PC", false);
        sim
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The Pingora service serving this store on `listen` (`ip:port`).
    pub fn service(self: &Arc<Self>, listen: &str) -> StoreFrontService {
        let mut service = self.bare_service();
        service.add_tcp(listen);
        service
    }

    /// The same over HTTPS with `tls` (a server certificate of a test CA): how the tests check
    /// the gateway's own TLS to StoreFront.
    pub fn tls_service(self: &Arc<Self>, listen: &str, tls: TlsSettings) -> StoreFrontService {
        let mut service = self.bare_service();
        service.add_tls_with_settings(listen, None, tls);
        service
    }

    fn bare_service(self: &Arc<Self>) -> StoreFrontService {
        Service::new(
            "storefront-sim".to_string(),
            HttpServer::new_app(SimApp::new(self.clone())),
        )
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not take the simulator down with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The user a token stands for.
    fn user_of(&self, token: &str) -> Option<&str> {
        self.config
            .users
            .iter()
            .find(|(t, _)| t == token)
            .map(|(_, u)| u.as_str())
    }

    /// Add an application session of `user` on `client_name`, connected (`active`) or not;
    /// returns its id.
    pub fn add_session(&self, user: &str, app: &str, client_name: &str, active: bool) -> String {
        self.add_session_of_kind(user, app, SessionKind::App, client_name, None, active)
    }

    /// Add a session of any kind, with an optional device id; returns its id.
    pub fn add_session_of_kind(
        &self,
        user: &str,
        app: &str,
        kind: SessionKind,
        client_name: &str,
        device_id: Option<&str>,
        active: bool,
    ) -> String {
        let client = Endpoint {
            client_name,
            device_id,
        };
        self.lock().store.add(user, app, kind, client, active)
    }

    /// A copy of every session, in creation order.
    pub fn sessions(&self) -> Vec<SessionSnapshot> {
        self.lock().store.sessions().to_vec()
    }

    /// Logon tickets issued by launches, oldest first.
    pub fn issued_tickets(&self) -> Vec<String> {
        self.lock().store.issued_tickets().to_vec()
    }

    /// Tickets named by disconnect and logoff requests, oldest first (each once).
    pub fn invalidated_tickets(&self) -> Vec<String> {
        self.lock().store.invalidated_tickets().to_vec()
    }

    /// The last [`MAX_RECORDED_REQUESTS`] requests, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.iter().cloned().collect()
    }

    /// How many requests the simulator received since it started.
    pub fn request_count(&self) -> usize {
        self.lock().request_count
    }

    /// The body of the last answer the simulator sent.
    pub fn last_response_body(&self) -> Option<Vec<u8>> {
        self.lock().last_response_body.clone()
    }

    /// Wait this long before answering sessions routes (zero: answer at once).
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    /// Inject `fault` into the answers of sessions and endpoints routes (`None`: behave).
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.lock().fault = fault;
    }

    /// Name this server in a header of every answer ([`SERVER_HEADER`]), e.g. `stable` and
    /// `canary` for the two pools of the demo: a human can see which one answered.
    pub fn set_server_name(&self, name: &str) {
        self.lock().server_name = Some(name.to_string());
    }

    fn server_name(&self) -> Option<String> {
        self.lock().server_name.clone()
    }

    fn record_request(&self, request: RecordedRequest) {
        let mut inner = self.lock();
        inner.request_count += 1;
        if inner.requests.len() >= MAX_RECORDED_REQUESTS {
            inner.requests.pop_front();
        }
        inner.requests.push_back(request);
    }

    fn record_response(&self, body: &[u8]) {
        self.lock().last_response_body = Some(body.to_vec());
    }

    fn delay(&self) -> Duration {
        self.lock().delay
    }

    /// The fault in force.
    pub fn fault(&self) -> Option<Fault> {
        self.lock().fault.clone()
    }
}
