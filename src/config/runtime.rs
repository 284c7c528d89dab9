//! The validated runtime configuration: what the rest of the gateway reads. Plain data only:
//! files named here are read, names resolved and verifiers built in wiring (`server`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::cidr::Cidr;
use crate::protocol::citrix_auth::Challenge;
use crate::protocol::url::encode_segment;

/// The whole gateway.
#[derive(Debug, Clone)]
pub struct Config {
    /// Client-facing listeners, plain and HTTPS, in the file's order.
    pub listen: Vec<SocketAddr>,
    /// The HTTPS ones among them.
    pub tls_listeners: Vec<TlsListener>,
    /// Admin listener.
    pub admin_listen: SocketAddr,
    /// Worker threads of each service.
    pub threads: usize,
    /// Seconds in-flight requests get on SIGTERM.
    pub grace_period_seconds: u64,
    /// Unix socket of the graceful upgrade.
    pub upgrade_socket: PathBuf,
    /// Bounds on client connections.
    pub clients: Clients,
    /// How access lines are written.
    pub access_log: crate::logging::access::AccessFormat,
    /// Watch the file and reload when it changes: every this often, when set.
    pub watch_interval: Option<Duration>,
    /// Stores; their paths never nest, so at most one matches a request.
    pub stores: Vec<Arc<Store>>,
    /// The secret that signs farm session ids (required when a store has farms).
    pub session_id_key_file: Option<PathBuf>,
    /// The bearer token of the admin endpoints that change state, read in wiring.
    pub admin_token_file: Option<PathBuf>,
    /// Proxies whose `X-Forwarded-For` is believed and appended to.
    pub trusted_proxies: Vec<super::Cidr>,
    /// XML relays, in the file's order.
    pub xml_relays: Vec<XmlRelay>,
}

/// An XML relay in front of one farm.
#[derive(Debug, Clone, PartialEq)]
pub struct XmlRelay {
    /// Where it listens.
    pub listen: SocketAddr,
    /// Its certificate when it serves HTTPS (`index` is the relay's place in `xml_relays`).
    pub tls: Option<TlsListener>,
    /// The farm relayed to (its brokers, TLS, timeouts, pre-XD7 flag and safeguard policy).
    pub farm: Arc<Farm>,
    /// Trusted source networks.
    pub trusted_networks: Vec<super::Cidr>,
    /// Largest request body accepted.
    pub max_request_bytes: usize,
    pub throttle: Throttle,
}

/// Bounds of a relay's brute-force throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    pub failures_per_user: u32,
    pub failures_per_source: u32,
    pub window: Duration,
    pub max_entries: usize,
}

/// A listener that serves HTTPS. Its files are read in wiring, where `-t` tries them too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsListener {
    /// Its place in `listen` (`listen[N]` in messages).
    pub index: usize,
    pub addr: SocketAddr,
    /// PEM certificate chain, the server's own certificate first.
    pub certificate_file: PathBuf,
    /// PEM private key of that certificate.
    pub key_file: PathBuf,
    /// HTTP/2 offered by ALPN besides HTTP/1.1.
    pub http2: bool,
}

/// Bounds on client connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clients {
    /// From a request's first byte to the end of its header.
    pub header_timeout: Duration,
    /// For a Sessions Service request body to arrive whole.
    pub body_timeout: Duration,
    /// For the first byte of a connection's next request.
    pub idle_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
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

impl Store {
    /// The public launch URL of a session.
    pub fn launch_url(&self, session_id: &str) -> String {
        format!(
            "{}/sessions/v1/{}/launch/ica",
            self.public_url,
            encode_segment(session_id)
        )
    }
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

/// The legacy farms behind a store, and how the gateway verifies the users it speaks for.
#[derive(Debug, Clone)]
pub struct Farms {
    /// In configuration order, which is also the order of merged session lists.
    pub list: Vec<Arc<Farm>>,
    /// How clients' tokens are verified: the farms trust the gateway, so the gateway trusts no
    /// one.
    pub identity: IdentityConfig,
}

/// What a farm publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FarmHosts {
    Apps,
    Desktops,
    Both,
}

/// One legacy farm.
#[derive(Debug, Clone, PartialEq)]
pub struct Farm {
    /// `publishername` and the `farm` metric label.
    pub name: String,
    /// `host:port` of each XML broker, as written (resolved in wiring).
    pub brokers: Vec<String>,
    /// HTTPS to the brokers.
    pub tls: bool,
    /// CA certificates the brokers' certificates must chain to; the system's when `None`.
    pub ca_file: Option<PathBuf>,
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
    /// `host:port` of each server, as written (resolved in wiring).
    pub upstreams: Vec<String>,
    /// The store path on the servers, no trailing slash (`""` at the root).
    pub upstream_path: String,
    /// HTTPS to the servers.
    pub tls: bool,
    /// CA certificates the servers' certificates must chain to; the system's when `None`.
    pub ca_file: Option<PathBuf>,
    /// Host header and TLS SNI; `None` means the server's address.
    pub host: Option<String>,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// Largest answer buffered for rewriting.
    pub max_response_bytes: usize,
    /// TCP health-check interval, if checks are on (and no HTTP check is configured).
    pub health_check_interval: Option<Duration>,
    /// Weight of each server of `upstreams`, in the same order.
    pub weights: Vec<u32>,
    /// HTTP health check of the stable pool, instead of the TCP check.
    pub health_check: Option<HttpCheck>,
    /// The canary pool, if the store has one.
    pub canary: Option<Arc<Canary>>,
}

/// An HTTP health check of a pool's servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    /// Path asked (absolute, on the servers).
    pub path: String,
    /// Status a healthy server answers.
    pub status: u16,
    pub interval: Duration,
    pub timeout: Duration,
    /// Consecutive failures that take a server out of rotation.
    pub failures: usize,
    /// Consecutive successes that bring it back.
    pub successes: usize,
}

/// The canary pool of a StoreFront store.
#[derive(Debug, Clone)]
pub struct Canary {
    /// `host:port` of each server, as written.
    pub upstreams: Vec<String>,
    /// Weight of each, same order.
    pub weights: Vec<u32>,
    /// HTTP health check (the stable pool's when not given; TCP when neither has one).
    pub health_check: Option<HttpCheck>,
    /// The share of clients at start, percent (0 to 100); the live share is kept in wiring.
    pub share_percent: f64,
    /// Secret that signs launch tags, read in wiring.
    pub launch_key_file: PathBuf,
    /// Forcing a pool, if configured.
    pub force: Option<Force>,
    /// The automatic rollback; `None` when turned off.
    pub guard: Option<GuardConfig>,
}

/// A header or cookie naming a pool, honoured from trusted networks only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Force {
    /// Header name, lower case.
    pub header: Option<String>,
    pub cookie: Option<String>,
    pub trusted: Vec<Cidr>,
}

/// Settings of the rollback guard.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardConfig {
    pub window: Duration,
    pub buckets: u32,
    pub significance: f64,
    pub min_canary_requests: u64,
    pub latency_p99_margin: Option<Duration>,
}

/// How tokens are checked and how their claims become the user the farms see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityConfig {
    pub source: IdentitySource,
    /// Claim holding the user name; usually `sub`.
    pub user_claim: String,
    /// Claim holding the group SIDs (an array of strings), if any.
    pub sids_claim: Option<String>,
    /// NetBIOS domain given to names that carry none (`alice`, `alice@corp.example`).
    pub domain: Option<String>,
}

/// Where a token is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    Jwt(JwtConfig),
    Introspection(IntrospectionConfig),
}

/// The one JWT algorithm a verifier accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    Hs256,
    Rs256,
    Es256,
}

/// Local JWT verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfig {
    pub algorithm: JwtAlgorithm,
    /// HS256: the shared secret; RS256/ES256: a PEM public key.
    pub key_file: PathBuf,
    /// Accepted `aud` values; empty means `aud` is not checked.
    pub audience: Vec<String>,
    /// Required `iss`, if any.
    pub issuer: Option<String>,
    /// Clock skew allowed on `exp` and `nbf` (whole seconds).
    pub leeway: Duration,
}

/// RFC 7662 token introspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrospectionConfig {
    /// `http://` or `https://` endpoint.
    pub url: String,
    /// Sent with HTTP Basic authentication, with the secret of `client_secret_file`.
    pub client_id: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    /// CA certificates an `https://` endpoint's certificate must chain to; the system's when
    /// `None`.
    pub ca_file: Option<PathBuf>,
    /// Bound on the whole exchange (name lookup, connect, request, answer).
    pub timeout: Duration,
    /// How long a positive answer is reused (never past the token's `exp`).
    pub cache_ttl: Duration,
    /// Most answers cached.
    pub cache_entries: usize,
    /// Accepted `aud` values; empty means `aud` is not checked.
    pub audience: Vec<String>,
}
