//! Every metric of the gateway: names, help texts and closed label sets, in one place.
//!
//! Label values come only from configuration (store names, validated) and from the enums below,
//! never from a request: no client name, token, session id or raw path can become a label.
//! The rest of the gateway records through the typed functions at the end of this file, so a
//! label can be neither forgotten nor put in the wrong place.

use std::sync::OnceLock;
use std::time::Duration;

use pingora_prometheus::prometheus::{
    self, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
};

pub const REQUESTS_TOTAL: &str = "sessiongate_requests_total";
pub const REQUEST_DURATION_SECONDS: &str = "sessiongate_request_duration_seconds";
pub const REJECTIONS_TOTAL: &str = "sessiongate_rejections_total";
pub const UPSTREAM_ERRORS_TOTAL: &str = "sessiongate_upstream_errors_total";
pub const UPSTREAM_DURATION_SECONDS: &str = "sessiongate_upstream_duration_seconds";
pub const ACTIVE_SESSION_QUERIES_TOTAL: &str = "sessiongate_active_session_queries_total";
pub const BACKEND_UP: &str = "sessiongate_backend_up";
pub const FARM_REQUESTS_TOTAL: &str = "sessiongate_farm_requests_total";
pub const FARM_REQUEST_DURATION_SECONDS: &str = "sessiongate_farm_request_duration_seconds";
pub const PARTIAL_ENUMERATIONS_TOTAL: &str = "sessiongate_partial_enumerations_total";
pub const FARM_ACTIVE_SESSION_QUERIES_TOTAL: &str = "sessiongate_farm_active_session_queries_total";
pub const TOKEN_VERIFICATIONS_TOTAL: &str = "sessiongate_token_verifications_total";
pub const BUILD_INFO: &str = "sessiongate_build_info";
pub const CLIENT_CONNECTIONS: &str = "sessiongate_client_connections";
pub const CLIENT_CONNECTIONS_DROPPED_TOTAL: &str = "sessiongate_client_connections_dropped_total";
pub const CANARY_SHARE_PERCENT: &str = "sessiongate_canary_share_percent";
pub const CANARY_ROLLBACKS_TOTAL: &str = "sessiongate_canary_rollbacks_total";
pub const CANARY_FORCED_TOTAL: &str = "sessiongate_canary_forced_total";
pub const CANARY_FALLBACKS_TOTAL: &str = "sessiongate_canary_fallbacks_total";
pub const CANARY_OPERATOR_CHANGES_TOTAL: &str = "sessiongate_canary_operator_changes_total";
pub const ADMIN_DENIED_TOTAL: &str = "sessiongate_admin_denied_total";
pub const RELAY_REQUESTS_TOTAL: &str = "sessiongate_relay_requests_total";
pub const RELAY_REQUEST_DURATION_SECONDS: &str = "sessiongate_relay_request_duration_seconds";
pub const RELAY_ACTIVE_SESSION_QUERIES_TOTAL: &str =
    "sessiongate_relay_active_session_queries_total";
pub const RELAY_FAILOVERS_TOTAL: &str = "sessiongate_relay_failovers_total";
pub const CONFIG_RELOADS_TOTAL: &str = "sessiongate_config_reloads_total";
pub const CONFIG_LAST_RELOAD_SUCCESSFUL: &str = "sessiongate_config_last_reload_successful";
pub const CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS: &str =
    "sessiongate_config_last_reload_success_timestamp_seconds";
pub const CONFIG_HASH: &str = "sessiongate_config_hash";
pub const REQUESTS_UNPARSED_TOTAL: &str = "sessiongate_requests_unparsed_total";

/// Store label for requests that matched no store.
pub const NO_STORE: &str = "none";
/// Store label of the XML relays' brokers in [`BACKEND_UP`] (their pool label is the farm).
pub const RELAY_STORE: &str = "relay";
/// Pool label of everything not served by a canary: stores without one, farm stores, requests
/// answered before a pool was chosen.
pub const STABLE_POOL: &str = "stable";

/// Latency buckets (seconds): sessions calls take milliseconds to a few seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// What happened to a request that asked for active sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveQueryOutcome {
    /// Forwarded as asked.
    Allowed,
    /// Forwarded with `includeActiveSessions` turned off.
    Stripped,
    /// Answered 400 by the gateway.
    Refused,
}

impl ActiveQueryOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ActiveQueryOutcome::Allowed => "allowed",
            ActiveQueryOutcome::Stripped => "stripped",
            ActiveQueryOutcome::Refused => "refused",
        }
    }
}

/// What the active-session safeguard did for one farm of one `available` request that asked
/// for active sessions (`action` label of [`FARM_ACTIVE_SESSION_QUERIES_TOTAL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SafeguardAction {
    /// Active sessions were asked for: on a pre-XD7 farm this disconnects them.
    Allowed,
    /// Only disconnected sessions were asked for.
    Stripped,
    /// The request was refused because of this farm's policy.
    Refused,
    /// The farm was not queried at all (`appSessionsOnly` and a pre-XD7 desktop farm).
    Skipped,
}

impl SafeguardAction {
    pub fn as_str(self) -> &'static str {
        match self {
            SafeguardAction::Allowed => "allowed",
            SafeguardAction::Stripped => "stripped",
            SafeguardAction::Refused => "refused",
            SafeguardAction::Skipped => "skipped",
        }
    }
}

/// Why the gateway closed a client connection itself (`reason` label of
/// [`CLIENT_CONNECTIONS_DROPPED_TOTAL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionDrop {
    /// The connection limit was reached: closed on accept.
    OverCapacity,
    /// No request began within the idle limit.
    IdleTimeout,
    /// A request's header did not arrive whole within the header limit.
    HeaderTimeout,
}

impl ConnectionDrop {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionDrop::OverCapacity => "over_capacity",
            ConnectionDrop::IdleTimeout => "idle_timeout",
            ConnectionDrop::HeaderTimeout => "header_timeout",
        }
    }
}

/// Where an XML relay's request came from (`source` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelaySource {
    Trusted,
    Untrusted,
}

impl RelaySource {
    pub fn as_str(self) -> &'static str {
        match self {
            RelaySource::Trusted => "trusted",
            RelaySource::Untrusted => "untrusted",
        }
    }
}

/// How an XML relay answered a request (`outcome` label of [`RELAY_REQUESTS_TOTAL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayOutcome {
    /// The broker's answer was relayed.
    Relayed,
    /// Refused by the allow-list (`not-trusted`).
    NotTrusted,
    /// A password logon refused by the throttle (`failed-credentials`).
    Throttled,
    /// Listing active sessions refused by the safeguard's policy (`not-trusted`).
    SafeguardRefused,
    /// Not an NFuse request: HTTP 400 (unreadable XML, wrong shape).
    Invalid,
    /// A DOCTYPE other than NFuse's, an internal subset, an entity: HTTP 400.
    ForbiddenMarkup,
    /// Over the size cap: HTTP 413.
    TooLarge,
    /// Wrong path, method or framing: HTTP 404, 405 or 411.
    BadHttp,
    /// No broker gave an answer: HTTP 502, 503 or 504.
    UpstreamFailed,
}

impl RelayOutcome {
    pub const ALL: [RelayOutcome; 9] = [
        RelayOutcome::Relayed,
        RelayOutcome::NotTrusted,
        RelayOutcome::Throttled,
        RelayOutcome::SafeguardRefused,
        RelayOutcome::Invalid,
        RelayOutcome::ForbiddenMarkup,
        RelayOutcome::TooLarge,
        RelayOutcome::BadHttp,
        RelayOutcome::UpstreamFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RelayOutcome::Relayed => "relayed",
            RelayOutcome::NotTrusted => "not_trusted",
            RelayOutcome::Throttled => "throttled",
            RelayOutcome::SafeguardRefused => "safeguard_refused",
            RelayOutcome::Invalid => "invalid",
            RelayOutcome::ForbiddenMarkup => "forbidden_markup",
            RelayOutcome::TooLarge => "too_large",
            RelayOutcome::BadHttp => "bad_http",
            RelayOutcome::UpstreamFailed => "upstream_failed",
        }
    }
}

/// The labels of one relayed (or refused) request.
#[derive(Debug, Clone, Copy)]
pub struct RelayLabels<'a> {
    pub farm: &'a str,
    /// A [`crate::protocol::nfuse::RequestType`] label, or `unknown` before the body was read.
    pub request: &'a str,
    pub source: RelaySource,
}

/// `1xx` … `5xx`.
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

/// The labels of one answered request (`pool`: `stable` or `canary`, see [`STABLE_POOL`]).
#[derive(Debug, Clone, Copy)]
pub struct RequestLabels<'a> {
    pub store: &'a str,
    pub operation: &'a str,
    pub pool: &'a str,
}

/// The registered metric families.
struct Metrics {
    /// `store`, `operation`, `pool`, `status_class`.
    requests: IntCounterVec,
    /// `store`, `operation`, `pool`.
    request_duration: HistogramVec,
    /// `store`, `reason`.
    rejections: IntCounterVec,
    /// `store`, `kind`, `pool`.
    upstream_errors: IntCounterVec,
    /// `store`, `pool`.
    upstream_duration: HistogramVec,
    /// `store`, `outcome`.
    active_session_queries: IntCounterVec,
    /// `store`, `pool`, `backend` (server address; set from health checks).
    backend_up: IntGaugeVec,
    /// `store`, `farm`, `request` (NFuse request type), `outcome`.
    farm_requests: IntCounterVec,
    /// `store`, `farm`, `request`.
    farm_request_duration: HistogramVec,
    /// `store`: `available` answers that lack at least one farm.
    partial_enumerations: IntCounterVec,
    /// `store`, `farm`, `action` ([`SafeguardAction`]).
    farm_active_session_queries: IntCounterVec,
    /// `store`, `outcome` (`ok`, `missing`, `invalid`, `expired`, `unavailable`).
    token_verifications: IntCounterVec,
    /// Open client connections.
    client_connections: IntGauge,
    /// `reason` ([`ConnectionDrop`]).
    client_connections_dropped: IntCounterVec,
    /// `store`: the canary's live share, percent.
    canary_share: GaugeVec,
    /// `store`, `cause` (`errors`, `latency`).
    canary_rollbacks: IntCounterVec,
    /// `store`, `outcome` (`honoured`, `untrusted`, `invalid`).
    canary_forced: IntCounterVec,
    /// `store`: canary requests served by stable because no canary server was healthy.
    canary_fallbacks: IntCounterVec,
    /// `store`: shares set through the admin listener.
    canary_operator_changes: IntCounterVec,
    /// `reason` (`unauthorized`, `forbidden`): admin changes refused.
    admin_denied: IntCounterVec,
    relay_requests: IntCounterVec,
    relay_request_duration: HistogramVec,
    relay_active_session_queries: IntCounterVec,
    relay_failovers: IntCounterVec,
}

fn register<C: prometheus::core::Collector + Clone + 'static>(c: C) -> C {
    // A second registration (several gateways in one test process) is harmless: the first
    // registered family keeps being exported and this handle shares nothing with it, which is
    // why `Metrics::get` hands out one process-wide instance.
    let _ = prometheus::register(Box::new(c.clone()));
    c
}

// The names and label sets are constants, so construction can only fail on a programming error.
#[allow(clippy::expect_used)]
fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    register(IntCounterVec::new(Opts::new(name, help), labels).expect("constant metric definition"))
}

#[allow(clippy::expect_used)]
fn histogram(name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    register(
        HistogramVec::new(
            HistogramOpts::new(name, help).buckets(DURATION_BUCKETS.to_vec()),
            labels,
        )
        .expect("constant metric definition"),
    )
}

#[allow(clippy::expect_used)]
fn gauge(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    register(IntGaugeVec::new(Opts::new(name, help), labels).expect("constant metric definition"))
}

#[allow(clippy::expect_used)]
fn float_gauge(name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    register(GaugeVec::new(Opts::new(name, help), labels).expect("constant metric definition"))
}

#[allow(clippy::expect_used)]
fn plain_gauge(name: &str, help: &str) -> IntGauge {
    register(IntGauge::new(name, help).expect("constant metric definition"))
}

impl Metrics {
    /// The process-wide metrics, registered on first use.
    fn get() -> &'static Metrics {
        static METRICS: OnceLock<Metrics> = OnceLock::new();
        METRICS.get_or_init(|| {
            let info = gauge(BUILD_INFO, "Build information; always 1.", &["version"]);
            info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
            Metrics {
                requests: counter(
                    REQUESTS_TOTAL,
                    "Requests answered, by store, operation, pool and status class.",
                    &["store", "operation", "pool", "status_class"],
                ),
                request_duration: histogram(
                    REQUEST_DURATION_SECONDS,
                    "Time from request header to the end of the answer.",
                    &["store", "operation", "pool"],
                ),
                rejections: counter(
                    REJECTIONS_TOTAL,
                    "Requests the gateway refused itself, by reason.",
                    &["store", "reason"],
                ),
                upstream_errors: counter(
                    UPSTREAM_ERRORS_TOTAL,
                    "Failed exchanges with upstream servers, by kind and pool.",
                    &["store", "kind", "pool"],
                ),
                upstream_duration: histogram(
                    UPSTREAM_DURATION_SECONDS,
                    "Time of a sessions exchange with an upstream server.",
                    &["store", "pool"],
                ),
                active_session_queries: counter(
                    ACTIVE_SESSION_QUERIES_TOTAL,
                    "Requests that asked to list active sessions, by what the gateway did.",
                    &["store", "outcome"],
                ),
                backend_up: gauge(
                    BACKEND_UP,
                    "1 when the backend passes its health check, 0 otherwise, by pool.",
                    &["store", "pool", "backend"],
                ),
                farm_requests: counter(
                    FARM_REQUESTS_TOTAL,
                    "NFuse requests to farm XML brokers, by farm, request type and outcome.",
                    &["store", "farm", "request", "outcome"],
                ),
                farm_request_duration: histogram(
                    FARM_REQUEST_DURATION_SECONDS,
                    "Time of one NFuse request to a farm, failover included.",
                    &["store", "farm", "request"],
                ),
                partial_enumerations: counter(
                    PARTIAL_ENUMERATIONS_TOTAL,
                    "Session lists answered without every farm (enumeration=\"partial\").",
                    &["store"],
                ),
                farm_active_session_queries: counter(
                    FARM_ACTIVE_SESSION_QUERIES_TOTAL,
                    "Requests to list active sessions, by farm and what the safeguard did.",
                    &["store", "farm", "action"],
                ),
                token_verifications: counter(
                    TOKEN_VERIFICATIONS_TOTAL,
                    "Tokens verified by the gateway for farm-backed stores, by outcome.",
                    &["store", "outcome"],
                ),
                client_connections: plain_gauge(CLIENT_CONNECTIONS, "Client connections open now."),
                client_connections_dropped: counter(
                    CLIENT_CONNECTIONS_DROPPED_TOTAL,
                    "Client connections the gateway closed itself, by reason.",
                    &["reason"],
                ),
                canary_share: float_gauge(
                    CANARY_SHARE_PERCENT,
                    "Share of clients routed to the canary pool now, percent.",
                    &["store"],
                ),
                canary_rollbacks: counter(
                    CANARY_ROLLBACKS_TOTAL,
                    "Automatic canary rollbacks by the guard, by cause.",
                    &["store", "cause"],
                ),
                canary_forced: counter(
                    CANARY_FORCED_TOTAL,
                    "Requests carrying the forced-pool header or cookie, by outcome.",
                    &["store", "outcome"],
                ),
                canary_fallbacks: counter(
                    CANARY_FALLBACKS_TOTAL,
                    "Canary requests served by the stable pool: no canary server was healthy.",
                    &["store"],
                ),
                canary_operator_changes: counter(
                    CANARY_OPERATOR_CHANGES_TOTAL,
                    "Canary shares set through the admin listener (POST /canary/{store}), by store.",
                    &["store"],
                ),
                admin_denied: counter(
                    ADMIN_DENIED_TOTAL,
                    "Admin changes refused: unauthorized (no or wrong token) or forbidden.",
                    &["reason"],
                ),
                relay_requests: counter(
                    RELAY_REQUESTS_TOTAL,
                    "Requests to the XML relays, by farm, request type, source class and outcome.",
                    &["farm", "request", "source", "outcome"],
                ),
                relay_request_duration: histogram(
                    RELAY_REQUEST_DURATION_SECONDS,
                    "Time from an XML relay request's header to its answer, by farm and request type.",
                    &["farm", "request"],
                ),
                relay_active_session_queries: counter(
                    RELAY_ACTIVE_SESSION_QUERIES_TOTAL,
                    "RequestReconnectSessionData naming active sessions through a relay, by farm and what the safeguard did.",
                    &["farm", "action"],
                ),
                relay_failovers: counter(
                    RELAY_FAILOVERS_TOTAL,
                    "Read-only relay requests sent to another broker after one failed, by farm.",
                    &["farm"],
                ),
            }
        })
    }
}

/// Prometheus text exposition of everything registered.
pub fn render() -> Vec<u8> {
    use prometheus::Encoder;
    // Registered on first use: a scrape before any traffic still lists every family.
    Metrics::get();
    unparsed_requests();
    let mut out = Vec::new();
    // Encoding into a Vec cannot fail for well-formed families; an error leaves a partial page.
    let _ = prometheus::TextEncoder::new().encode(&prometheus::gather(), &mut out);
    out
}

/// A request answered: `status` 0 means no answer was written (the client left).
pub fn request(labels: RequestLabels<'_>, status: u16, elapsed: Duration) {
    let RequestLabels {
        store,
        operation,
        pool,
    } = labels;
    let m = Metrics::get();
    m.requests
        .with_label_values(&[store, operation, pool, status_class(status)])
        .inc();
    m.request_duration
        .with_label_values(&[store, operation, pool])
        .observe(elapsed.as_secs_f64());
}

/// A request the gateway refused itself, with its reason (a closed set).
pub fn rejection(store: &str, reason: &str) {
    Metrics::get()
        .rejections
        .with_label_values(&[store, reason])
        .inc();
}

/// A failed exchange with an upstream of `pool`, by kind (a closed set).
pub fn upstream_error(store: &str, kind: &str, pool: &str) {
    Metrics::get()
        .upstream_errors
        .with_label_values(&[store, kind, pool])
        .inc();
}

/// The time of one sessions exchange with a StoreFront server.
pub fn upstream_duration(store: &str, pool: &str, elapsed: Duration) {
    Metrics::get()
        .upstream_duration
        .with_label_values(&[store, pool])
        .observe(elapsed.as_secs_f64());
}

/// What the store's policy did with a request for active sessions.
pub fn active_session_query(store: &str, outcome: ActiveQueryOutcome) {
    Metrics::get()
        .active_session_queries
        .with_label_values(&[store, outcome.as_str()])
        .inc();
}

/// Whether a backend of `pool` (its address) passes its health check.
pub fn backend_up(store: &str, pool: &str, backend: &str, up: bool) {
    Metrics::get()
        .backend_up
        .with_label_values(&[store, pool, backend])
        .set(i64::from(up));
}

/// The canary's live share, percent.
pub fn canary_share(store: &str, percent: f64) {
    Metrics::get()
        .canary_share
        .with_label_values(&[store])
        .set(percent);
}

/// The guard rolled the canary back (`cause`: `errors`, `latency`).
pub fn canary_rollback(store: &str, cause: &str) {
    Metrics::get()
        .canary_rollbacks
        .with_label_values(&[store, cause])
        .inc();
}

/// A request carried the forced-pool header or cookie (`outcome`: `honoured`, `untrusted`,
/// `invalid`).
pub fn canary_forced(store: &str, outcome: &str) {
    Metrics::get()
        .canary_forced
        .with_label_values(&[store, outcome])
        .inc();
}

/// A canary request served by stable: no canary server was healthy.
pub fn canary_fallback(store: &str) {
    Metrics::get()
        .canary_fallbacks
        .with_label_values(&[store])
        .inc();
}

/// A canary share set by an operator through the admin listener.
pub fn canary_operator_change(store: &str) {
    Metrics::get()
        .canary_operator_changes
        .with_label_values(&[store])
        .inc();
}

/// An admin change refused (`reason` from [`crate::admin::access::Denied::as_str`]).
pub fn admin_denied(reason: &str) {
    Metrics::get()
        .admin_denied
        .with_label_values(&[reason])
        .inc();
}

/// One NFuse request to a farm, failover included: its type, outcome and time.
pub fn farm_request(store: &str, farm: &str, request: &str, outcome: &str, elapsed: Duration) {
    let m = Metrics::get();
    m.farm_requests
        .with_label_values(&[store, farm, request, outcome])
        .inc();
    m.farm_request_duration
        .with_label_values(&[store, farm, request])
        .observe(elapsed.as_secs_f64());
}

/// A session list answered without every farm.
pub fn partial_enumeration(store: &str) {
    Metrics::get()
        .partial_enumerations
        .with_label_values(&[store])
        .inc();
}

/// What the safeguard did for one farm of a request for active sessions.
pub fn farm_active_session_query(store: &str, farm: &str, action: SafeguardAction) {
    Metrics::get()
        .farm_active_session_queries
        .with_label_values(&[store, farm, action.as_str()])
        .inc();
}

/// A token verified for a farm-backed store: `ok` or the failure's label.
pub fn token_verification(store: &str, outcome: &str) {
    Metrics::get()
        .token_verifications
        .with_label_values(&[store, outcome])
        .inc();
}

/// One request to an XML relay, answered.
pub fn relay_request(labels: RelayLabels<'_>, outcome: RelayOutcome, elapsed: Duration) {
    let m = Metrics::get();
    m.relay_requests
        .with_label_values(&[
            labels.farm,
            labels.request,
            labels.source.as_str(),
            outcome.as_str(),
        ])
        .inc();
    m.relay_request_duration
        .with_label_values(&[labels.farm, labels.request])
        .observe(elapsed.as_secs_f64());
}

/// What a relay's safeguard did with a request naming active sessions.
pub fn relay_active_session_query(farm: &str, action: SafeguardAction) {
    Metrics::get()
        .relay_active_session_queries
        .with_label_values(&[farm, action.as_str()])
        .inc();
}

/// A read-only relay request moved on to the farm's next broker.
pub fn relay_failover(farm: &str) {
    Metrics::get()
        .relay_failovers
        .with_label_values(&[farm])
        .inc();
}

/// A client connection closed by one of the gateway's limits.
pub fn connection_dropped(reason: ConnectionDrop) {
    Metrics::get()
        .client_connections_dropped
        .with_label_values(&[reason.as_str()])
        .inc();
}

/// Counts an open client connection for as long as it lives.
pub struct OpenConnection(());

impl OpenConnection {
    pub fn new() -> OpenConnection {
        Metrics::get().client_connections.inc();
        OpenConnection(())
    }
}

impl Default for OpenConnection {
    fn default() -> Self {
        OpenConnection::new()
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        Metrics::get().client_connections.dec();
    }
}

/// Requests whose header never reached the gateway (see [`request_unparsed`]).
fn unparsed_requests() -> &'static prometheus::IntCounter {
    static COUNTER: OnceLock<prometheus::IntCounter> = OnceLock::new();
    #[allow(clippy::expect_used)]
    COUNTER.get_or_init(|| {
        register(
            prometheus::IntCounter::new(
                REQUESTS_UNPARSED_TOTAL,
                "Requests that ended before their header reached the gateway: malformed (answered 400 by Pingora), CONNECT (405), or cut off by the client.",
            )
            .expect("constant metric definition"),
        )
    })
}

/// A request that ended before its header was parsed.
pub fn request_unparsed() {
    unparsed_requests().inc();
}

/// How a reload ended (`outcome` label of [`CONFIG_RELOADS_TOTAL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// The new configuration serves.
    Success,
    /// The file was unreadable or invalid: the previous configuration still serves.
    Failure,
}

impl ReloadOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ReloadOutcome::Success => "success",
            ReloadOutcome::Failure => "failure",
        }
    }
}

/// The configuration's own metrics, registered with the first load.
struct ConfigMetrics {
    /// `outcome` ([`ReloadOutcome`]).
    reloads: IntCounterVec,
    last_successful: IntGauge,
    last_success_timestamp: prometheus::Gauge,
    hash: prometheus::Gauge,
}

impl ConfigMetrics {
    #[allow(clippy::expect_used)]
    fn get() -> &'static ConfigMetrics {
        static METRICS: OnceLock<ConfigMetrics> = OnceLock::new();
        METRICS.get_or_init(|| {
            let reloads = counter(
                CONFIG_RELOADS_TOTAL,
                "Configuration reloads (SIGHUP, POST /reload, file watch), by outcome.",
                &["outcome"],
            );
            // Both series exist from the start, so `increase()` sees the first failure.
            for outcome in [ReloadOutcome::Success, ReloadOutcome::Failure] {
                reloads.with_label_values(&[outcome.as_str()]);
            }
            let plain = |name: &str, help: &str| {
                register(prometheus::Gauge::new(name, help).expect("constant metric definition"))
            };
            ConfigMetrics {
                reloads,
                last_successful: plain_gauge(
                    CONFIG_LAST_RELOAD_SUCCESSFUL,
                    "1 when the last load or reload of the configuration succeeded, 0 when it failed.",
                ),
                last_success_timestamp: plain(
                    CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS,
                    "Unix time of the last successful load or reload of the configuration.",
                ),
                hash: plain(
                    CONFIG_HASH,
                    "The serving configuration file: the first 48 bits of its SHA-256, as a number.",
                ),
            }
        })
    }
}

/// A configuration now serves (at start or by a reload): `hash` is its
/// [`CONFIG_HASH`] value, when it came from a file.
pub fn config_loaded(hash: Option<f64>) {
    let m = ConfigMetrics::get();
    m.last_successful.set(1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    m.last_success_timestamp.set(now);
    if let Some(hash) = hash {
        m.hash.set(hash);
    }
}

/// A reload ended; a failure leaves the previous configuration serving.
pub fn config_reload(outcome: ReloadOutcome) {
    let m = ConfigMetrics::get();
    m.reloads.with_label_values(&[outcome.as_str()]).inc();
    if outcome == ReloadOutcome::Failure {
        m.last_successful.set(0);
    }
}
