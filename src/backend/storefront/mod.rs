//! StoreFront servers behind a store: the live pool, Sessions Service calls to it, the store's
//! active-session policy, and turning a server's answer into the client's ([`response`]).
//!
//! A POST is never replayed: only a failure to connect (no byte sent) moves on to the next
//! server of the pool.

pub mod response;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use pingora::http::RequestHeader;

use super::exchange::{Attempt, HttpClient, Replay, Target};
pub use super::exchange::{Exchange, UpstreamError};
use super::pool::Pool;
use super::trust::Trust;
use crate::config::{ActiveSessionPolicy, StoreFront};
use crate::metrics::ActiveQueryOutcome;
use crate::protocol::session_params::SessionParams;
use crate::protocol::url::UrlMap;
use crate::routing::canary::PoolName;

/// Why a Sessions Service call to StoreFront gave the client no answer of the server's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreFrontError {
    #[error("this store does not allow listing active sessions (includeActiveSessions=true)")]
    ActiveSessionsRefused,
    #[error("{0}")]
    Upstream(UpstreamError),
    /// The server answered, but not in a form the gateway can pass on safely.
    #[error("the StoreFront server sent an answer the gateway could not read")]
    BadAnswer,
}

/// The StoreFront servers of one store as the gateway runs them: settings, the resolved pool, and
/// what the gateway knows of their names.
pub struct Servers {
    pub settings: Arc<StoreFront>,
    /// The stable pool.
    pub pool: Pool,
    /// The canary pool, when the store has one.
    pub canary: Option<Pool>,
    /// Maps URLs the servers write onto the public URL.
    pub url_map: UrlMap,
    /// The CA of the servers' certificates (`ca_file`), when the store has one.
    pub trust: Option<Trust>,
    /// Every name the servers go by (`host:port` as configured and resolved, `host`): an answer
    /// that holds one of them must not reach a client unread.
    pub names: Vec<String>,
}

impl Servers {
    /// How the gateway talks to these servers.
    pub fn target(&self) -> Target<'_> {
        let sf = &self.settings;
        Target {
            tls: sf.tls,
            trust: self.trust.as_ref(),
            host: sf.host.as_deref(),
            authority: None,
            connect_timeout: sf.connect_timeout,
            read_timeout: sf.read_timeout,
            max_response_bytes: sf.max_response_bytes,
        }
    }

    /// The pool that serves a request meant for `wanted`, and its name: the canary when asked
    /// for and one of its servers passes its check, else the stable pool (the caller counts
    /// the fallback when the names differ).
    pub fn pick(&self, wanted: PoolName) -> (PoolName, &Pool) {
        match (&self.canary, wanted) {
            (Some(canary), PoolName::Canary) if canary.any_healthy() => (PoolName::Canary, canary),
            _ => (PoolName::Stable, &self.pool),
        }
    }

    /// The pool named `name` as decided (the stable pool when the store has no canary).
    pub fn named(&self, name: PoolName) -> &Pool {
        match (&self.canary, name) {
            (Some(canary), PoolName::Canary) => canary,
            _ => &self.pool,
        }
    }

    /// The upstream path of `rest`, a path below the store.
    pub fn upstream_path(&self, rest: &str) -> String {
        format!("{}/{}", self.settings.upstream_path, rest)
    }
}

/// Apply the store's active-session policy to the parameters of `available`: what it did, if the
/// request asked for active sessions.
pub fn apply_policy(
    policy: ActiveSessionPolicy,
    params: &mut SessionParams,
) -> Result<Option<ActiveQueryOutcome>, StoreFrontError> {
    if params.include_active_sessions != Some(true) {
        return Ok(None);
    }
    match policy {
        ActiveSessionPolicy::Allow => Ok(Some(ActiveQueryOutcome::Allowed)),
        ActiveSessionPolicy::Strip => {
            params.include_active_sessions = Some(false);
            Ok(Some(ActiveQueryOutcome::Stripped))
        }
        ActiveSessionPolicy::Reject => Err(StoreFrontError::ActiveSessionsRefused),
    }
}

/// Sends requests to StoreFront servers over pooled connections.
#[derive(Default)]
pub struct StoreFrontClient {
    http: HttpClient,
}

impl StoreFrontClient {
    /// Send `request` with `body` to a server of `pool` (one of `servers`' pools) and read the whole answer (bounded by
    /// the store's `max_response_bytes`). The exchange's `elapsed` counts failed connects to
    /// other servers too: they are part of what the call cost.
    pub async fn send(
        &self,
        servers: &Servers,
        pool: &Pool,
        request: RequestHeader,
        body: Bytes,
        replay: Replay,
    ) -> Result<Exchange, StoreFrontError> {
        let started = Instant::now();
        let target = servers.target();
        let mut tried: Vec<SocketAddr> = Vec::new();
        let (mut timed_out, mut tls) = (false, false);
        while let Some(addr) = pool.select(&tried) {
            tried.push(addr);
            match self
                .http
                .exchange(&target, addr, &request, &body, replay)
                .await
            {
                Ok(exchange) => return Ok(with_elapsed(exchange, started.elapsed())),
                Err(Attempt::NotConnected {
                    timed_out: t,
                    tls: s,
                }) => {
                    timed_out |= t;
                    tls |= s;
                }
                Err(Attempt::Failed(e)) => return Err(StoreFrontError::Upstream(e)),
            }
        }
        Err(StoreFrontError::Upstream(UpstreamError::no_connection(
            !tried.is_empty(),
            timed_out,
            tls,
        )))
    }
}

fn with_elapsed(exchange: Exchange, elapsed: Duration) -> Exchange {
    Exchange {
        elapsed,
        ..exchange
    }
}
