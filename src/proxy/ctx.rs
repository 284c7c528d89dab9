//! What the gateway knows about one request as it moves through Pingora's phases.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::client_addr::ClientAddr;
use super::request_id::RequestId;
use crate::metrics::ActiveQueryOutcome;
use crate::routing::canary::{ClientKey, PoolName};
use crate::routing::rollout::Forced;
use crate::routing::{Operation, Store};

/// Per-request state; `logging` turns it into metrics and the access log line.
pub struct RequestCtx {
    pub started: Instant,
    /// Set when the header has been read (the first hook).
    pub request_id: RequestId,
    /// The client (behind trusted proxies), set with the request id.
    pub client: Option<ClientAddr>,
    /// Time a Sessions Service body may take to arrive whole.
    pub body_timeout: Duration,
    /// The store the path belongs to, once routed.
    pub store: Option<Arc<Store>>,
    pub operation: Option<Operation>,
    /// Passthrough: the request target on the upstream.
    pub upstream_target: Option<String>,
    /// Passthrough: servers that refused the connection, so a retry picks another.
    pub tried: Vec<SocketAddr>,
    /// The server that got the request.
    pub backend: Option<SocketAddr>,
    /// Time the server took to answer a Sessions Service or endpoints request.
    pub upstream_elapsed: Option<Duration>,
    /// Reason of an answer the gateway made itself.
    pub reason: Option<&'static str>,
    /// Kind of upstream failure, if any.
    pub upstream_error: Option<&'static str>,
    /// Passthrough: a connect attempt timed out (as opposed to being refused).
    pub connect_timed_out: bool,
    /// Passthrough: a TLS handshake failed (the server's certificate refused, most often).
    pub connect_tls_failed: bool,
    /// What the active-session policy did, when the request asked for active sessions.
    pub active_query: Option<ActiveQueryOutcome>,
    /// Stores with a canary: the pool decided for the request, then the one that served it.
    pub pool: Option<PoolName>,
    /// What a forcing header or cookie led to, if the request carried one.
    pub forced: Option<Forced>,
    /// The canary was decided but had no healthy server: stable served.
    pub fell_back: bool,
    /// The client's key, when the answer must set it as the affinity cookie.
    pub affinity: Option<ClientKey>,
}

impl RequestCtx {
    pub fn new(body_timeout: Duration) -> Self {
        RequestCtx {
            started: Instant::now(),
            request_id: RequestId::default(),
            client: None,
            body_timeout,
            store: None,
            operation: None,
            upstream_target: None,
            tried: Vec::new(),
            backend: None,
            upstream_elapsed: None,
            reason: None,
            upstream_error: None,
            connect_timed_out: false,
            connect_tls_failed: false,
            active_query: None,
            pool: None,
            forced: None,
            fell_back: false,
            affinity: None,
        }
    }
}
