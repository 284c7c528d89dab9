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

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Client-facing listeners, `ip:port`.
    #[serde(default = "default_listen")]
    pub listen: Vec<String>,
    /// Admin listener, `ip:port`.
    #[serde(default = "default_admin_listen")]
    pub admin_listen: String,
    /// Worker threads of each service.
    #[serde(default = "default_threads")]
    pub threads: usize,
    /// Seconds in-flight requests get to finish on SIGTERM.
    #[serde(default = "default_grace")]
    pub grace_period_seconds: u64,
    /// The stores served.
    #[serde(default)]
    pub stores: Vec<StoreConfig>,
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

fn default_listen() -> Vec<String> {
    vec![DEFAULT_LISTEN.to_string()]
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
