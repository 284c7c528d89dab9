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
    /// The stores served.
    #[serde(default)]
    pub stores: Vec<StoreConfig>,
    /// Secret (at least 32 bytes) that signs the session ids of farm sessions; every gateway
    /// instance in front of the same farms must use the same one. Required with `farms:`.
    #[serde(default)]
    pub session_id_key_file: Option<String>,
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
    /// `host:port` of each server.
    pub upstreams: Vec<String>,
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
    /// TCP health check of each server; `0` turns it off.
    #[serde(default = "default_health_interval")]
    pub health_check_interval_ms: u64,
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
