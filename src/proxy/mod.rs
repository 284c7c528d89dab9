//! The Pingora `ProxyHttp` implementation: a thin dispatcher over the request phases.
//!
//! - Sessions Service routes and the endpoints document are answered in `request_filter` (origin
//!   mode): [`request`] runs the checks every store kind shares, then the handler of the store's
//!   kind ([`storefront`], [`farms`]) calls its backend and [`answer`] writes what it returns.
//! - Every other path under a StoreFront store streams through Pingora ([`passthrough`]).
//! - Failures become answers in exactly one place ([`error::GatewayError`]); `logging` records
//!   metrics and the access log for every request.

pub mod answer;
pub mod body;
pub mod canary;
pub mod checks;
pub mod client_addr;
pub mod client_stream;
pub mod connection;
pub mod ctx;
pub mod error;
pub mod farms;
pub mod forwarding;
pub mod passthrough;
pub mod request;
pub mod request_id;
pub mod storefront;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pingora::http::ResponseHeader;
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorSource, ErrorType};

use crate::backend::exchange::tls_failure;
use crate::backend::farm::FarmClient;
use crate::backend::storefront::{StoreFrontClient, UpstreamError};
use crate::config::Cidr;
use crate::live::Current;
use crate::metrics;
use crate::routing::canary::PoolName;
use crate::routing::{Operation, Upstreams};
pub use ctx::RequestCtx;
pub use error::GatewayError;
use request_id::RequestId;

/// The gateway's proxy logic.
pub struct Gateway {
    /// The configuration now: each request takes one snapshot.
    current: Current,
    storefront: StoreFrontClient,
    farms: Arc<FarmClient>,
    /// Time a Sessions Service body may take to arrive whole.
    body_timeout: Duration,
}

impl Gateway {
    pub fn new(current: Current, body_timeout: Duration) -> Gateway {
        Gateway {
            current,
            storefront: StoreFrontClient::default(),
            farms: Arc::new(FarmClient::default()),
            body_timeout,
        }
    }

    /// The client behind the connection's peer (`X-Forwarded-For` believed from `trusted`).
    fn client_addr(session: &Session, trusted: &[Cidr]) -> Option<client_addr::ClientAddr> {
        let peer = session.client_addr()?.as_inet()?.ip();
        let values = session.req_header().headers.get_all("x-forwarded-for");
        Some(client_addr::resolve(
            peer,
            values.iter().map(|v| v.as_bytes()),
            |ip| trusted.iter().any(|c| c.contains(ip)),
        ))
    }

    /// Answer with `error`, recording its reason; the connection stays open if the request body
    /// was (or can quickly be) read to its end.
    async fn reject(&self, session: &mut Session, ctx: &mut RequestCtx, error: GatewayError) {
        match error.upstream_kind() {
            Some(kind) => ctx.upstream_error = Some(kind),
            None => ctx.reason = Some(error.reason()),
        }
        ctx.active_query = error.active_query().or(ctx.active_query);
        let store = ctx.store.as_ref().map(|s| s.config.clone());
        let limit = store.as_ref().map_or(0, |s| s.max_body_bytes);
        // A body that did not arrive in time will not arrive while draining either.
        let keep_alive = error.body_may_follow() && body::drain(session, limit).await;
        if let Err(e) = error.respond(session, store.as_deref(), keep_alive).await {
            tracing::debug!(error = %e, "could not write the answer");
        }
    }

    /// The upstream failure behind a Pingora error of a passthrough request.
    fn upstream_failure(e: &Error, ctx: &RequestCtx) -> GatewayError {
        let kind = match e.etype() {
            ErrorType::ConnectNoRoute if ctx.tried.is_empty() => UpstreamError::NoBackend,
            ErrorType::ConnectNoRoute if ctx.connect_tls_failed => UpstreamError::TlsFailed,
            ErrorType::ConnectNoRoute if ctx.connect_timed_out => UpstreamError::ConnectTimeout,
            ErrorType::ConnectTimedout => UpstreamError::ConnectTimeout,
            ErrorType::ReadTimedout | ErrorType::WriteTimedout => UpstreamError::Timeout,
            ErrorType::ConnectNoRoute | ErrorType::ConnectRefused | ErrorType::ConnectError => {
                UpstreamError::ConnectFailed
            }
            kind if tls_failure(kind) => UpstreamError::TlsFailed,
            _ => UpstreamError::Broken,
        };
        GatewayError::Upstream(kind)
    }
}

#[async_trait]
impl ProxyHttp for Gateway {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx::new(self.body_timeout)
    }

    fn on_connection_reuse(
        &self,
        _session: &mut Session,
        _ctx: &mut RequestCtx,
        prev_ctx: Box<dyn std::any::Any + Send + Sync>,
    ) {
        // Pingora calls this right after parsing a header: the connection loop stops the clock.
        connection::header_parsed(prev_ctx);
    }

    async fn request_filter(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<bool> {
        let live = self.current.snapshot();
        ctx.request_id = RequestId::for_request(&session.req_header().headers);
        ctx.client = Self::client_addr(session, &live.trusted_proxies);
        let target = session
            .req_header()
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        if let Err(e) = checks::check_target(session.req_header()) {
            self.reject(session, ctx, e).await;
            return Ok(true);
        }
        let Some(route) = live.router.route(&target) else {
            self.reject(session, ctx, GatewayError::NoRoute).await;
            return Ok(true);
        };
        let store = route.store.clone();
        let method = &session.req_header().method;
        let readable = method == http::Method::GET || method == http::Method::HEAD;
        let operation = match route.operation {
            // The endpoints document is only read; nothing else under it reaches the server.
            Operation::Endpoints if !readable => Operation::Reserved,
            op => op,
        };
        let rest = route.rest;
        ctx.store = Some(store.clone());
        ctx.operation = Some(operation.clone());
        let served = match (&operation, &store.upstreams) {
            (Operation::Passthrough, Upstreams::StoreFront(servers)) => {
                ctx.upstream_target = Some(servers.upstream_path(rest));
                if let Some(rollout) = &store.rollout {
                    canary::decide(rollout, session, None, None, ctx);
                }
                return Ok(false);
            }
            (Operation::Reserved | Operation::Passthrough, _) => Err(GatewayError::NoRoute),
            (op, Upstreams::StoreFront(servers)) => {
                storefront::serve(&self.storefront, session, &store, servers, op, rest, ctx).await
            }
            (Operation::Endpoints, Upstreams::Farms(_)) => {
                farms::endpoints(session, &store.config).await
            }
            (op, Upstreams::Farms(upstreams)) => {
                farms::serve(&self.farms, session, &store.config, upstreams, op, ctx).await
            }
        };
        if let Err(e) = served {
            self.reject(session, ctx, e).await;
        }
        Ok(true)
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<Box<HttpPeer>> {
        passthrough::peer(ctx)
    }

    fn fail_to_connect(
        &self,
        _session: &mut Session,
        _peer: &HttpPeer,
        ctx: &mut RequestCtx,
        mut e: Box<Error>,
    ) -> Box<Error> {
        // Nothing reached the server: another one may take the request.
        if let Some(addr) = ctx.backend.take() {
            ctx.tried.push(addr);
        }
        ctx.connect_timed_out |= e.etype() == &ErrorType::ConnectTimedout;
        ctx.connect_tls_failed |= tls_failure(e.etype());
        e.set_retry(true);
        e
    }

    async fn upstream_request_filter(
        &self,
        session: &mut Session,
        upstream_request: &mut pingora::http::RequestHeader,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<()> {
        passthrough::upstream_request(session, upstream_request, ctx)
    }

    async fn upstream_response_filter(
        &self,
        _session: &mut Session,
        upstream_response: &mut ResponseHeader,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<()> {
        passthrough::upstream_response(upstream_response, ctx)
    }

    async fn response_filter(
        &self,
        session: &mut Session,
        upstream_response: &mut ResponseHeader,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<()> {
        passthrough::downstream_response(session, upstream_response, ctx);
        Ok(())
    }

    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        e: &Error,
        ctx: &mut RequestCtx,
    ) -> FailToProxy {
        let error = match e.esource() {
            ErrorSource::Upstream => Self::upstream_failure(e, ctx),
            // The client went away or sent garbage; there is nobody to answer.
            ErrorSource::Downstream => {
                return FailToProxy {
                    error_code: 0,
                    can_reuse_downstream: false,
                }
            }
            _ if e.etype() == &ErrorType::ConnectNoRoute => Self::upstream_failure(e, ctx),
            _ => GatewayError::Upstream(UpstreamError::Broken),
        };
        let status = error.status();
        ctx.upstream_error = error.upstream_kind();
        // Once the answer has started, all that is left is to cut the connection.
        if session.response_written().is_none() {
            let store = ctx.store.as_ref().map(|s| s.config.clone());
            if let Err(w) = error.respond(session, store.as_deref(), false).await {
                tracing::debug!(error = %w, "could not write the error answer");
            }
        }
        FailToProxy {
            error_code: status,
            can_reuse_downstream: false,
        }
    }

    fn request_summary(&self, session: &Session, _ctx: &RequestCtx) -> String {
        // Pingora's own error lines name the request with this: never the query, which can
        // carry a token.
        let req = session.req_header();
        format!("{} {}", req.method, req.uri.path())
    }

    fn suppress_error_log(&self, _session: &Session, _ctx: &RequestCtx, _error: &Error) -> bool {
        // Every failure is counted and logged once, in `logging`.
        true
    }

    async fn logging(&self, session: &mut Session, e: Option<&Error>, ctx: &mut RequestCtx) {
        let status = session.response_written().map_or(0, |r| r.status.as_u16());
        let store = ctx
            .store
            .as_ref()
            .map_or(metrics::NO_STORE, |s| s.config.name.as_str());
        let operation = ctx.operation.as_ref().map_or("none", Operation::label);
        let pool = ctx.pool.map_or(metrics::STABLE_POOL, PoolName::as_str);
        let labels = metrics::RequestLabels {
            store,
            operation,
            pool,
        };
        metrics::request(labels, status, ctx.started.elapsed());
        if let Some(reason) = ctx.reason {
            metrics::rejection(store, reason);
        }
        if let Some(kind) = ctx.upstream_error {
            metrics::upstream_error(store, kind, pool);
        }
        if let Some(rollout) = ctx.store.as_ref().and_then(|s| s.rollout.as_ref()) {
            canary::finished(rollout, store, status, ctx);
        }
        if let Some(outcome) = ctx.active_query {
            metrics::active_session_query(store, outcome);
        }
        // With the access log off, not even the line's fields are made.
        if crate::logging::access::format() == crate::logging::access::AccessFormat::Off {
            return;
        }
        let req = session.req_header();
        // Only what is safe in a log line: never a header, the query or a body.
        tracing::info!(
            target: crate::logging::access::TARGET,
            request_id = ctx.request_id.as_str(),
            client = %ctx.client.as_ref().map(|c| c.ip.to_string()).unwrap_or_default(),
            method = %req.method,
            path = %req.uri.path(),
            store,
            operation,
            pool,
            status,
            reason = ctx.reason.or(ctx.upstream_error).unwrap_or("-"),
            backend = %ctx.backend.map(|b| b.to_string()).unwrap_or_default(),
            active_sessions = ctx.active_query.map_or("-", |o| o.as_str()),
            duration_ms = ctx.started.elapsed().as_millis() as u64,
            upstream_ms = ctx.upstream_elapsed.map(|d| d.as_millis() as u64),
            error = %e.map(|e| e.etype().as_str()).unwrap_or("-"),
        );
    }
}
