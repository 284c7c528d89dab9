//! The YAML file as written by operators: serde structs that reject unknown keys, with defaults.
//!
//! Nothing here is trusted yet; [`super::validate`] turns a [`FileConfig`] into the runtime
//! [`super::Config`] and reports every problem with its key path.

use serde::Deserialize;

/// Default client-facing listener.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default admin listener (`/metrics`, `/healthz`, `/readyz`).
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:9100";
/// Default worker threads of each service.
pub const DEFAULT_THREADS: usize = 2;
/// Default seconds a graceful shutdown lets in-flight requests finish.
pub const DEFAULT_GRACE_PERIOD_SECONDS: u64 = 5;
/// Default path of the Unix socket a new process (`-u`) takes the listeners over through.
pub const DEFAULT_UPGRADE_SOCKET: &str = "/tmp/sessiongate-upgrade.sock";
/// Default time from a request's first byte to the end of its header.
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;
/// Default time a Sessions Service request body may take to arrive whole.
pub const DEFAULT_BODY_TIMEOUT_MS: u64 = 30_000;
/// Default time a client connection may wait idle for its next request.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
/// Default cap on open client connections (each costs a few KiB when idle).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default request body limit of a store (bytes).
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024;
/// Largest request body limit a store may set: Pingora's retry buffer holds at most 64 KiB.
pub const MAX_BODY_BYTES_CEILING: usize = 64 * 1024;
/// Default upstream connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 2_000;
/// Default upstream read timeout (time to wait for each read of the answer).
pub const DEFAULT_READ_TIMEOUT_MS: u64 = 15_000;
/// Default limit on an upstream answer the gateway buffers to rewrite.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Default health-check interval.
pub const DEFAULT_HEALTH_CHECK_INTERVAL_MS: u64 = 5_000;
/// Default time a farm's broker gets to answer one NFuse request (a fan-out waits at most this
/// long for a farm, plus the connect timeout).
pub const DEFAULT_FARM_TIMEOUT_MS: u64 = 5_000;
/// Default limit on a broker's answer: session lists are small.
pub const DEFAULT_FARM_MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Default interval of the NFuse health check of each broker.
pub const DEFAULT_FARM_HEALTH_CHECK_INTERVAL_MS: u64 = 10_000;
/// Default lifetime of a logon ticket asked for at launch (Web Interface uses 200 s).
pub const DEFAULT_TICKET_TTL_SECONDS: u32 = 200;
/// Default leeway on JWT `exp` / `nbf`.
pub const DEFAULT_JWT_LEEWAY_SECONDS: u64 = 60;
/// Largest leeway accepted: more than a day of clock skew is a configuration mistake.
pub const MAX_JWT_LEEWAY_SECONDS: u64 = 24 * 3600;
/// Default introspection timeout.
pub const DEFAULT_INTROSPECTION_TIMEOUT_MS: u64 = 2_000;
/// Default time an introspection result is reused.
pub const DEFAULT_INTROSPECTION_CACHE_TTL_SECONDS: u64 = 60;
/// Default number of cached introspection results.
pub const DEFAULT_INTROSPECTION_CACHE_ENTRIES: usize = 10_000;

/// Default weight of a server in its pool.
pub const DEFAULT_WEIGHT: u32 = 1;
/// Default status of a healthy server's answer to the HTTP health check.
pub const DEFAULT_CHECK_STATUS: u16 = 200;
/// Default time an HTTP health check may take.
pub const DEFAULT_CHECK_TIMEOUT_MS: u64 = 2_000;
/// Default consecutive failed checks that take a server out of rotation.
pub const DEFAULT_CHECK_FAILURES: usize = 3;
/// Default consecutive passed checks that bring it back.
pub const DEFAULT_CHECK_SUCCESSES: usize = 2;
/// Default sliding window of the rollback guard (5 minutes).
pub const DEFAULT_GUARD_WINDOW_MS: u64 = 300_000;
/// Default number of buckets of that window.
pub const DEFAULT_GUARD_BUCKETS: u32 = 10;
/// Default one-sided significance of the guard's test.
pub const DEFAULT_GUARD_SIGNIFICANCE: f64 = 0.001;
/// Default canary requests in the window before the guard gives a verdict.
pub const DEFAULT_GUARD_MIN_CANARY_REQUESTS: u64 = 200;

/// Default milliseconds between two reads of a watched configuration file.
pub const DEFAULT_WATCH_INTERVAL_MS: u64 = 2_000;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Client-facing listeners: `ip:port` for plain HTTP, or a map with a certificate for HTTPS.
    #[serde(default = "default_listen")]
    pub listen: Vec<ListenEntry>,
    /// Admin listener, `ip:port`.
    #[serde(default = "default_admin_listen")]
    pub admin_listen: String,
    /// Worker threads of each service.
    #[serde(default = "default_threads")]
    pub threads: usize,
    /// Seconds in-flight requests get to finish on SIGTERM.
    #[serde(default = "default_grace")]
    pub grace_period_seconds: u64,
    /// Unix socket of the graceful upgrade (`-u`, then SIGQUIT to the old process); two
    /// instances on one host need two paths.
    #[serde(default = "default_upgrade_socket")]
    pub upgrade_socket: String,
    /// Bounds on client connections.
    #[serde(default)]
    pub clients: ClientsConfig,
    /// The access log.
    #[serde(default)]
    pub access_log: AccessLogConfig,
    /// Live reload: besides SIGHUP and `POST /reload`, optionally watching the file.
    #[serde(default)]
    pub reload: ReloadConfig,
    /// The stores served.
    #[serde(default)]
    pub stores: Vec<StoreConfig>,
    /// Secret (at least 32 bytes) that signs the session ids of farm sessions; every gateway
    /// instance in front of the same farms must use the same one. Required with `farms:`.
    #[serde(default)]
    pub session_id_key_file: Option<String>,
    /// Bearer token (a file holding it) that guards the admin endpoints that change state
    /// (`POST /canary/{store}`); required when the admin listener is not on loopback and a
    /// store has a canary.
    #[serde(default)]
    pub admin_token_file: Option<String>,
    /// Networks of the proxies in front of the gateway whose `X-Forwarded-For` is believed.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// XML relays: listeners that pass NFuse requests (StoreFront's, Web Interface's) on to one
    /// farm's XML brokers, filtered (docs/relay.md).
    #[serde(default)]
    pub xml_relays: Vec<XmlRelayConfig>,
}

/// Default largest request a relay accepts: the XML service's own default (CTX943036).
pub const DEFAULT_RELAY_MAX_REQUEST_BYTES: usize = 4096;
/// Default failed logons per user within the window before the relay refuses more.
pub const DEFAULT_THROTTLE_FAILURES_PER_USER: u32 = 5;
/// Default failed logons per untrusted source address within the window.
pub const DEFAULT_THROTTLE_FAILURES_PER_SOURCE: u32 = 10;
/// Default throttle window (15 minutes, a common lockout observation window).
pub const DEFAULT_THROTTLE_WINDOW_MS: u64 = 900_000;
/// Default number of users and sources the throttle remembers at most.
pub const DEFAULT_THROTTLE_MAX_ENTRIES: usize = 10_000;

/// One XML relay in front of one farm.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XmlRelayConfig {
    /// `ip:port` for plain HTTP, or a map with a certificate for HTTPS.
    pub listen: ListenEntry,
    /// The farm relayed to: the same keys as a store's farm.
    pub farm: FarmConfig,
    /// Networks whose requests are trusted: reconnaissance and identity-only credentials are
    /// accepted from them only (StoreFront's servers).
    #[serde(default)]
    pub trusted_networks: Vec<String>,
    /// Largest request body accepted, bytes.
    #[serde(default = "default_relay_max_request")]
    pub max_request_bytes: usize,
    /// Failed password logons allowed before the relay refuses more.
    #[serde(default)]
    pub throttle: ThrottleConfig,
}

fn default_relay_max_request() -> usize {
    DEFAULT_RELAY_MAX_REQUEST_BYTES
}

/// The brute-force throttle of a relay.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Failed logons of one user (from anywhere) within the window.
    #[serde(default = "default_failures_per_user")]
    pub failures_per_user: u32,
    /// Failed logons from one untrusted address within the window.
    #[serde(default = "default_failures_per_source")]
    pub failures_per_source: u32,
    /// The window, milliseconds.
    #[serde(default = "default_throttle_window")]
    pub window_ms: u64,
    /// Users and sources remembered at most (bounds memory).
    #[serde(default = "default_throttle_entries")]
    pub max_entries: usize,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            failures_per_user: DEFAULT_THROTTLE_FAILURES_PER_USER,
            failures_per_source: DEFAULT_THROTTLE_FAILURES_PER_SOURCE,
            window_ms: DEFAULT_THROTTLE_WINDOW_MS,
            max_entries: DEFAULT_THROTTLE_MAX_ENTRIES,
        }
    }
}

fn default_failures_per_user() -> u32 {
    DEFAULT_THROTTLE_FAILURES_PER_USER
}

fn default_failures_per_source() -> u32 {
    DEFAULT_THROTTLE_FAILURES_PER_SOURCE
}

fn default_throttle_window() -> u64 {
    DEFAULT_THROTTLE_WINDOW_MS
}

fn default_throttle_entries() -> usize {
    DEFAULT_THROTTLE_MAX_ENTRIES
}

/// One `listen` entry: a plain `ip:port` string, or a map for HTTPS.
#[derive(Debug)]
pub enum ListenEntry {
    /// Plain HTTP/1.1 on `ip:port`.
    Plain(String),
    /// HTTPS (and HTTP/2 by ALPN) with a certificate.
    Tls(TlsListenConfig),
}

impl<'de> Deserialize<'de> for ListenEntry {
    /// A string or a map. Written out rather than `#[serde(untagged)]`, whose only error is "did
    /// not match any variant": this way a misspelt key of the map is named.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entry;
        impl<'de> serde::de::Visitor<'de> for Entry {
            type Value = ListenEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"ip:port\" or a map with address, certificate_file and key_file")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ListenEntry, E> {
                Ok(ListenEntry::Plain(v.to_string()))
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                m: M,
            ) -> Result<ListenEntry, M::Error> {
                let de = serde::de::value::MapAccessDeserializer::new(m);
                TlsListenConfig::deserialize(de).map(ListenEntry::Tls)
            }
        }
        d.deserialize_any(Entry)
    }
}

/// An HTTPS listener.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsListenConfig {
    /// `ip:port`.
    pub address: String,
    /// PEM file: the server certificate first, then the intermediates.
    pub certificate_file: String,
    /// PEM file: the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: String,
    /// Offer HTTP/2 by ALPN besides HTTP/1.1.
    #[serde(default = "default_true")]
    pub http2: bool,
}

/// The access log: one line per request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogConfig {
    /// `logfmt` (default), `json`, `text` (like the other log lines) or `off`.
    #[serde(default)]
    pub format: crate::logging::access::AccessFormat,
}

/// Live reload of the configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReloadConfig {
    /// Reload when the file's content changes (as when Kubernetes updates a mounted ConfigMap).
    #[serde(default)]
    pub watch: bool,
    /// How often the watched file is read, milliseconds.
    #[serde(default = "default_watch_interval")]
    pub watch_interval_ms: u64,
}

impl Default for ReloadConfig {
    fn default() -> Self {
        ReloadConfig {
            watch: false,
            watch_interval_ms: DEFAULT_WATCH_INTERVAL_MS,
        }
    }
}

/// Bounds on client connections: slow or idle clients are cut off, and their number is capped.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientsConfig {
    /// Time from a request's first byte to the end of its header, milliseconds.
    #[serde(default = "default_header_timeout")]
    pub header_timeout_ms: u64,
    /// Time a Sessions Service request body may take to arrive whole, milliseconds.
    #[serde(default = "default_body_timeout")]
    pub body_timeout_ms: u64,
    /// Time a connection may wait idle for its next request (the first one too), milliseconds.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_ms: u64,
    /// Open client connections at most; more are closed on accept.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

impl Default for ClientsConfig {
    fn default() -> Self {
        ClientsConfig {
            header_timeout_ms: DEFAULT_HEADER_TIMEOUT_MS,
            body_timeout_ms: DEFAULT_BODY_TIMEOUT_MS,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Policy for sessionparams that ask for active sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActiveSessionsConfig {
    Allow,
    Strip,
    Reject,
}

/// One store.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Store base path served by the gateway, e.g. `/Citrix/Store`.
    pub path: String,
    /// Short name used as the `store` metric label; defaults to the last path segment.
    #[serde(default)]
    pub name: Option<String>,
    /// Public base of every URL handed to clients.
    pub public_url: String,
    /// What to do with requests that list active sessions.
    #[serde(default)]
    pub active_sessions: Option<ActiveSessionsConfig>,
    /// Request body limit in bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// CitrixAuth challenge parameters.
    #[serde(default)]
    pub auth: AuthConfig,
    /// StoreFront servers behind this store.
    #[serde(default)]
    pub storefront: Option<StoreFrontConfig>,
    /// Legacy farms behind this store (instead of `storefront`).
    #[serde(default)]
    pub farms: Option<Vec<FarmConfig>>,
    /// How the gateway verifies tokens itself (required with `farms:`).
    #[serde(default)]
    pub identity: Option<IdentityFileConfig>,
}

/// What a farm publishes, which decides whether `appSessionsOnly` queries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FarmHostsConfig {
    Apps,
    Desktops,
    #[default]
    Both,
}

/// One legacy farm, reached through its XML brokers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FarmConfig {
    /// Farm name: `publishername` in answers and the `farm` metric label.
    pub name: String,
    /// `host:port` of each XML broker of the farm.
    pub brokers: Vec<String>,
    /// Talk HTTPS to the brokers (SSL Relay or IIS).
    #[serde(default)]
    pub tls: bool,
    /// PEM file of the CA certificates the brokers' certificates must chain to (with `tls`);
    /// the system's roots when absent.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Host header and TLS SNI; defaults to the broker's address.
    #[serde(default)]
    pub host: Option<String>,
    /// Older than XenDesktop 7: listing active sessions there disconnects them. Assumed unless
    /// set to false, because the safe mistake is to not list active sessions.
    #[serde(default = "default_true")]
    pub pre_xd7: bool,
    /// What the farm publishes.
    #[serde(default)]
    pub hosts: FarmHostsConfig,
    /// StoreFront's `LegacyWorkspaceControl`: query this farm even for `appSessionsOnly`.
    #[serde(default)]
    pub legacy_workspace_control: bool,
    /// Overrides the store's `active_sessions` for this farm.
    #[serde(default)]
    pub active_sessions: Option<ActiveSessionsConfig>,
    /// Connect timeout, milliseconds.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_ms: u64,
    /// Time a broker gets to answer one request, milliseconds.
    #[serde(default = "default_farm_timeout")]
    pub timeout_ms: u64,
    /// Largest broker answer read, bytes.
    #[serde(default = "default_farm_max_response")]
    pub max_response_bytes: usize,
    /// NFuse health check of each broker; `0` turns it off.
    #[serde(default = "default_farm_health_interval")]
    pub health_check_interval_ms: u64,
    /// Lifetime of the logon ticket requested at launch, seconds.
    #[serde(default = "default_ticket_ttl")]
    pub ticket_ttl_seconds: u32,
}

/// JWT signature algorithms accepted; exactly one per store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum JwtAlgorithmConfig {
    HS256,
    RS256,
    ES256,
}

/// Token verification of a farm-backed store: `jwt` or `introspection`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityFileConfig {
    #[serde(default)]
    pub jwt: Option<JwtFileConfig>,
    #[serde(default)]
    pub introspection: Option<IntrospectionFileConfig>,
    /// Claim holding the user (`DOMAIN\user`, `user@domain` or `user`).
    #[serde(default = "default_user_claim")]
    pub user_claim: String,
    /// Claim holding the user's SIDs (an array of strings), sent to the farms when present.
    #[serde(default)]
    pub sids_claim: Option<String>,
    /// NetBIOS domain for user names without one.
    #[serde(default)]
    pub domain: Option<String>,
}

/// Local JWT verification.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtFileConfig {
    pub algorithm: JwtAlgorithmConfig,
    /// HS256: the shared secret; RS256/ES256: the PEM public key.
    pub key_file: String,
    /// Accepted `aud` values; empty means `aud` is not checked.
    #[serde(default)]
    pub audience: Vec<String>,
    /// Required `iss`, if set.
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default = "default_leeway")]
    pub leeway_seconds: u64,
}

/// RFC 7662 token introspection.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectionFileConfig {
    /// `http(s)://host:port/path` of the introspection endpoint.
    pub url: String,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret_file: Option<String>,
    /// PEM file of the CA certificates an `https://` endpoint's certificate must chain to; the
    /// system's roots when absent.
    #[serde(default)]
    pub ca_file: Option<String>,
    #[serde(default = "default_introspection_timeout")]
    pub timeout_ms: u64,
    #[serde(default = "default_cache_ttl")]
    pub cache_ttl_seconds: u64,
    #[serde(default = "default_cache_entries")]
    pub cache_entries: usize,
    #[serde(default)]
    pub audience: Vec<String>,
}

/// What the gateway's own 401 challenge says.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Challenge `realm`; defaults to the store name.
    #[serde(default)]
    pub realm: Option<String>,
    /// Token-service URLs for `locations`; defaults to `{public_url}Auth/auth/v1/token`, the
    /// StoreFront convention (`/Citrix/Store` → `/Citrix/StoreAuth`).
    #[serde(default)]
    pub token_services: Vec<String>,
    /// `serviceroot-hint`; defaults to `{public_url}/resources/v2`.
    #[serde(default)]
    pub serviceroot_hint: Option<String>,
}

/// A pool of StoreFront servers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreFrontConfig {
    /// Each server of the stable pool: `host:port`, or `{addr: host:port, weight: n}`.
    pub upstreams: Vec<UpstreamConfig>,
    /// The store path on those servers.
    pub upstream_path: String,
    /// Talk HTTPS to the servers.
    #[serde(default)]
    pub tls: bool,
    /// PEM file of the CA certificates the servers' certificates must chain to (with `tls`);
    /// the system's roots when absent.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Host name sent as `Host` (and as TLS SNI), and recognised in URLs the servers write;
    /// defaults to the address of the server a request goes to.
    #[serde(default)]
    pub host: Option<String>,
    /// Connect timeout, milliseconds.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_ms: u64,
    /// Read timeout, milliseconds.
    #[serde(default = "default_read_timeout")]
    pub read_timeout_ms: u64,
    /// Largest upstream answer buffered for rewriting, bytes.
    #[serde(default = "default_max_response")]
    pub max_response_bytes: usize,
    /// TCP health check of each server; `0` turns it off. Ignored when `health_check` is set.
    #[serde(default = "default_health_interval")]
    pub health_check_interval_ms: u64,
    /// HTTP health check of the stable pool (instead of the TCP check).
    #[serde(default)]
    pub health_check: Option<HealthCheckConfig>,
    /// A second pool that a share of clients is routed to.
    #[serde(default)]
    pub canary: Option<CanaryConfig>,
}

/// One server of a pool: a plain `host:port`, or one with a weight.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum UpstreamConfig {
    Plain(String),
    Weighted(WeightedUpstreamConfig),
}

impl UpstreamConfig {
    /// The `host:port`.
    pub fn addr(&self) -> &str {
        match self {
            UpstreamConfig::Plain(a) => a,
            UpstreamConfig::Weighted(w) => &w.addr,
        }
    }

    /// The relative weight (1 when not given).
    pub fn weight(&self) -> u32 {
        match self {
            UpstreamConfig::Plain(_) => DEFAULT_WEIGHT,
            UpstreamConfig::Weighted(w) => w.weight,
        }
    }
}

/// `{addr, weight}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightedUpstreamConfig {
    pub addr: String,
    #[serde(default = "default_weight")]
    pub weight: u32,
}

/// An HTTP health check: a real page of the store, asked of each server of a pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckConfig {
    /// Path asked, e.g. `/Citrix/Store/discovery`.
    pub path: String,
    /// Status a healthy server answers.
    #[serde(default = "default_check_status")]
    pub status: u16,
    #[serde(default = "default_health_interval")]
    pub interval_ms: u64,
    #[serde(default = "default_check_timeout")]
    pub timeout_ms: u64,
    /// Consecutive failures that take a server out of rotation.
    #[serde(default = "default_check_failures")]
    pub failures: usize,
    /// Consecutive successes that bring it back.
    #[serde(default = "default_check_successes")]
    pub successes: usize,
}

/// The canary pool of a StoreFront store.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanaryConfig {
    /// Servers of the canary pool, written like the stable pool's.
    pub upstreams: Vec<UpstreamConfig>,
    /// HTTP health check of the canary pool; defaults to the stable pool's.
    #[serde(default)]
    pub health_check: Option<HealthCheckConfig>,
    /// Percent of clients routed to the canary (0 to 100, fractions allowed).
    #[serde(default)]
    pub share: f64,
    /// Secret (at least 32 bytes) that signs the pool tag of launch URLs; every replica the
    /// same.
    pub launch_key_file: String,
    /// Forcing a pool from trusted networks.
    #[serde(default)]
    pub force: Option<ForceConfig>,
    /// The automatic rollback.
    #[serde(default)]
    pub guard: GuardFileConfig,
}

/// A header or cookie that forces a pool (`stable` / `canary`), from trusted networks only.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForceConfig {
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub cookie: Option<String>,
    /// CIDRs a forcing request must come from, e.g. `10.1.0.0/16`.
    pub trusted: Vec<String>,
}

/// The rollback guard: canary vs stable error rates over a sliding window.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardFileConfig {
    /// Turn the automatic rollback off.
    #[serde(default = "default_true")]
    pub enabled: bool,
    #[serde(default = "default_guard_window")]
    pub window_ms: u64,
    #[serde(default = "default_guard_buckets")]
    pub buckets: u32,
    /// One-sided significance of the test (the false-alarm rate per evaluation).
    #[serde(default = "default_guard_significance")]
    pub significance: f64,
    #[serde(default = "default_guard_min_requests")]
    pub min_canary_requests: u64,
    /// Roll back also when the canary's p99 latency is worse than stable's by more than this.
    #[serde(default)]
    pub latency_p99_margin_ms: Option<u64>,
}

impl Default for GuardFileConfig {
    fn default() -> Self {
        GuardFileConfig {
            enabled: true,
            window_ms: DEFAULT_GUARD_WINDOW_MS,
            buckets: DEFAULT_GUARD_BUCKETS,
            significance: DEFAULT_GUARD_SIGNIFICANCE,
            min_canary_requests: DEFAULT_GUARD_MIN_CANARY_REQUESTS,
            latency_p99_margin_ms: None,
        }
    }
}

fn default_listen() -> Vec<ListenEntry> {
    vec![ListenEntry::Plain(DEFAULT_LISTEN.to_string())]
}
fn default_admin_listen() -> String {
    DEFAULT_ADMIN_LISTEN.to_string()
}
fn default_threads() -> usize {
    DEFAULT_THREADS
}
fn default_grace() -> u64 {
    DEFAULT_GRACE_PERIOD_SECONDS
}
fn default_header_timeout() -> u64 {
    DEFAULT_HEADER_TIMEOUT_MS
}
fn default_body_timeout() -> u64 {
    DEFAULT_BODY_TIMEOUT_MS
}
fn default_idle_timeout() -> u64 {
    DEFAULT_IDLE_TIMEOUT_MS
}
fn default_watch_interval() -> u64 {
    DEFAULT_WATCH_INTERVAL_MS
}
fn default_max_connections() -> usize {
    DEFAULT_MAX_CONNECTIONS
}
fn default_upgrade_socket() -> String {
    DEFAULT_UPGRADE_SOCKET.to_string()
}
fn default_max_body() -> usize {
    DEFAULT_MAX_BODY_BYTES
}
fn default_connect_timeout() -> u64 {
    DEFAULT_CONNECT_TIMEOUT_MS
}
fn default_read_timeout() -> u64 {
    DEFAULT_READ_TIMEOUT_MS
}
fn default_max_response() -> usize {
    DEFAULT_MAX_RESPONSE_BYTES
}
fn default_health_interval() -> u64 {
    DEFAULT_HEALTH_CHECK_INTERVAL_MS
}
fn default_true() -> bool {
    true
}
fn default_farm_timeout() -> u64 {
    DEFAULT_FARM_TIMEOUT_MS
}
fn default_farm_max_response() -> usize {
    DEFAULT_FARM_MAX_RESPONSE_BYTES
}
fn default_farm_health_interval() -> u64 {
    DEFAULT_FARM_HEALTH_CHECK_INTERVAL_MS
}
fn default_ticket_ttl() -> u32 {
    DEFAULT_TICKET_TTL_SECONDS
}
fn default_user_claim() -> String {
    "sub".to_string()
}
fn default_leeway() -> u64 {
    DEFAULT_JWT_LEEWAY_SECONDS
}
fn default_introspection_timeout() -> u64 {
    DEFAULT_INTROSPECTION_TIMEOUT_MS
}
fn default_cache_ttl() -> u64 {
    DEFAULT_INTROSPECTION_CACHE_TTL_SECONDS
}
fn default_cache_entries() -> usize {
    DEFAULT_INTROSPECTION_CACHE_ENTRIES
}
fn default_weight() -> u32 {
    DEFAULT_WEIGHT
}
fn default_check_status() -> u16 {
    DEFAULT_CHECK_STATUS
}
fn default_check_timeout() -> u64 {
    DEFAULT_CHECK_TIMEOUT_MS
}
fn default_check_failures() -> usize {
    DEFAULT_CHECK_FAILURES
}
fn default_check_successes() -> usize {
    DEFAULT_CHECK_SUCCESSES
}
fn default_guard_window() -> u64 {
    DEFAULT_GUARD_WINDOW_MS
}
fn default_guard_buckets() -> u32 {
    DEFAULT_GUARD_BUCKETS
}
fn default_guard_significance() -> f64 {
    DEFAULT_GUARD_SIGNIFICANCE
}
fn default_guard_min_requests() -> u64 {
    DEFAULT_GUARD_MIN_CANARY_REQUESTS
}
