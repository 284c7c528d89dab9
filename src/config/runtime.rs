//! The validated runtime configuration: what the rest of the gateway reads.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::identity::Verifier;
use crate::protocol::citrix_auth::Challenge;
use crate::protocol::session_id::SessionIdKey;
use crate::protocol::url::UrlMap;

/// The whole gateway.
#[derive(Debug, Clone)]
pub struct Config {
    /// Client-facing listeners.
    pub listen: Vec<SocketAddr>,
    /// Admin listener.
    pub admin_listen: SocketAddr,
    /// Worker threads of each service.
    pub threads: usize,
    /// Seconds in-flight requests get on SIGTERM.
    pub grace_period_seconds: u64,
    /// Stores; their paths never nest, so at most one matches a request.
    pub stores: Vec<Arc<Store>>,
}

/// What to do with a request that lists active sessions (`includeActiveSessions=true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveSessionPolicy {
    /// Forward it as it is.
    Allow,
    /// Forward it with `includeActiveSessions` set to false.
    Strip,
    /// Answer 400 without contacting the backend.
    Reject,
}

impl ActiveSessionPolicy {
    /// The name used in the configuration file and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ActiveSessionPolicy::Allow => "allow",
            ActiveSessionPolicy::Strip => "strip",
            ActiveSessionPolicy::Reject => "reject",
        }
    }
}

/// One store served by the gateway.
#[derive(Debug, Clone)]
pub struct Store {
    /// Metric label and log name.
    pub name: String,
    /// Base path on the gateway, no trailing slash.
    pub path: String,
    /// Public base URL, no trailing slash.
    pub public_url: String,
    /// Active-session policy (StoreFront stores; farms have their own, see [`Farm`]).
    pub active_sessions: ActiveSessionPolicy,
    /// Request body limit, bytes.
    pub max_body_bytes: usize,
    /// What the gateway's own 401 says.
    pub challenge: ChallengeTemplate,
    /// Where requests go.
    pub backend: Backend,
}

/// Parameters of the gateway's CitrixAuth challenge.
#[derive(Debug, Clone)]
pub struct ChallengeTemplate {
    pub realm: String,
    pub locations: Vec<String>,
    pub serviceroot_hint: String,
}

impl ChallengeTemplate {
    /// The challenge with this `reason`.
    pub fn with_reason(&self, reason: &str) -> Challenge {
        Challenge::new(&self.realm, reason, &self.locations, &self.serviceroot_hint)
    }
}

/// The servers behind a store.
#[derive(Debug, Clone)]
pub enum Backend {
    /// StoreFront servers: passthrough with validation and rewriting.
    StoreFront(StoreFront),
    /// Legacy farms: the gateway answers the Sessions Service itself over NFuse.
    Farms(Farms),
}

/// The legacy farms behind a store, and what the gateway needs to speak for their users.
#[derive(Debug, Clone)]
pub struct Farms {
    /// In configuration order, which is also the order of merged session lists.
    pub farms: Vec<Arc<Farm>>,
    /// Signs the session ids handed to clients.
    pub session_ids: SessionIdKey,
    /// Verifies the clients' tokens: the farms trust the gateway, so the gateway trusts no one.
    pub identity: Arc<Verifier>,
}

/// What a farm publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FarmHosts {
    Apps,
    Desktops,
    Both,
}

/// One legacy farm.
#[derive(Debug, Clone)]
pub struct Farm {
    /// `publishername` and the `farm` metric label.
    pub name: String,
    /// Resolved broker addresses.
    pub brokers: Vec<SocketAddr>,
    /// HTTPS to the brokers.
    pub tls: bool,
    /// Host header and TLS SNI; `None` means the broker's address.
    pub host: Option<String>,
    pub connect_timeout: Duration,
    /// Time a broker gets to answer one request.
    pub timeout: Duration,
    pub max_response_bytes: usize,
    /// NFuse health-check interval, if checks are on.
    pub health_check_interval: Option<Duration>,
    /// Older than XenDesktop 7: listing active sessions disconnects them.
    pub pre_xd7: bool,
    pub hosts: FarmHosts,
    /// Query even for `appSessionsOnly` (StoreFront's `LegacyWorkspaceControl`).
    pub legacy_workspace_control: bool,
    /// The active-session policy in force for this farm (override, store, or the pre-XD7 default).
    pub active_sessions: ActiveSessionPolicy,
    /// Lifetime of launch tickets, seconds.
    pub ticket_ttl_seconds: u32,
}

impl Farm {
    /// Is the farm queried when the client asks for `appSessionsOnly`? Not a pre-XD7 desktop
    /// farm, "so as not to disconnect active desktops" (Sessions Service documentation), unless
    /// legacy workspace control is on.
    pub fn serves_app_sessions_only(&self) -> bool {
        self.legacy_workspace_control || !(self.pre_xd7 && self.hosts == FarmHosts::Desktops)
    }
}

/// A pool of StoreFront servers.
#[derive(Debug, Clone)]
pub struct StoreFront {
    /// Resolved server addresses.
    pub upstreams: Vec<SocketAddr>,
    /// The store path on the servers, no trailing slash (`""` at the root).
    pub upstream_path: String,
    /// HTTPS to the servers.
    pub tls: bool,
    /// Host header and TLS SNI; `None` means the server's address.
    pub host: Option<String>,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// Largest answer buffered for rewriting.
    pub max_response_bytes: usize,
    /// TCP health-check interval, if checks are on.
    pub health_check_interval: Option<Duration>,
    /// Maps URLs the servers write onto the public URL.
    pub url_map: UrlMap,
    /// Every name the servers go by (`host:port` as configured and resolved, `host`): an answer
    /// that holds one of them must not reach a client unread.
    pub names: Vec<String>,
}
