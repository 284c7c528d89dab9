//! The pool of one request on a store with a canary: the forced pool (trusted networks only),
//! else the launch tag, else the sticky split on the client's key; then the fallback to stable
//! when the canary has no healthy server. Also the affinity cookie that lets a client's
//! passthrough requests (resources, authentication) follow the decision its Sessions Service
//! calls got, and the removal of the gateway's own header and cookies from what servers see.
//!
//! The decision itself is pure ([`crate::routing::rollout`], [`crate::routing::canary`]); this
//! module only gathers what the request carries and records the outcome in the context.

use std::net::IpAddr;
use std::time::Instant;

use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::Session;

use super::ctx::RequestCtx;
use crate::backend::storefront::Servers;
use crate::backend::Pool;
use crate::config::Store;
use crate::metrics;
use crate::protocol::citrix_auth;
use crate::routing::canary::{ClientKey, Evidence, PoolName};
use crate::routing::rollout::{cookie, without_cookie, Forced, Rollout};

/// The affinity cookie: the client's key on the ring (unsigned: see `ClientKey::to_cookie`).
pub const AFFINITY_COOKIE: &str = "sessiongate_affinity";

/// What the request body says about the client, for the key (Sessions Service calls only).
#[derive(Debug, Clone, Default)]
pub struct ClientIds {
    pub device_id: Option<String>,
    pub client_name: Option<String>,
}

/// The client's address as the gateway saw it.
fn client_ip(session: &Session) -> Option<IpAddr> {
    session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map(|a| a.ip())
}

/// The pool `rollout` gives this request, recorded in `ctx` (`pool`, `forced`, and the key to
/// set as the affinity cookie). `ids` is `None` on passthrough paths, whose key comes from the
/// affinity cookie first; `tag` is the pool a launch tag named.
pub fn decide(
    rollout: &Rollout,
    session: &Session,
    ids: Option<&ClientIds>,
    tag: Option<PoolName>,
    ctx: &mut RequestCtx,
) -> PoolName {
    let headers = &session.req_header().headers;
    let ip = client_ip(session);
    let sent = cookie(headers, AFFINITY_COOKIE).and_then(ClientKey::from_cookie);
    let key = match (ids, sent) {
        (None, Some(key)) => key,
        _ => {
            let token = citrix_auth::token_from_headers(
                headers
                    .get_all("authorization")
                    .iter()
                    .map(|v| v.as_bytes()),
            )
            .ok();
            let device = ids.and_then(|i| i.device_id.as_deref());
            let name = ids.and_then(|i| i.client_name.as_deref());
            ClientKey::derive(device, name, token, ip).0
        }
    };
    if sent != Some(key) {
        ctx.affinity = Some(key);
    }
    let forced = rollout.forced(headers, ip);
    ctx.forced = forced;
    let pool = match forced {
        Some(Forced::Honoured(pool)) => pool,
        _ => tag.unwrap_or_else(|| rollout.choose(key)),
    };
    ctx.pool = Some(pool);
    pool
}

/// The pool that serves the decided request: the canary falls back to stable when none of its
/// servers is healthy (`ctx.fell_back`). Stores without a canary always use stable.
pub fn resolve<'a>(servers: &'a Servers, ctx: &mut RequestCtx) -> &'a Pool {
    let Some(wanted) = ctx.pool else {
        return &servers.pool;
    };
    let (served, pool) = servers.pick(wanted);
    if served != wanted {
        ctx.fell_back = true;
        ctx.pool = Some(served);
    }
    pool
}

/// Remove the forcing header and cookie and the affinity cookie from a request to a server:
/// they are the gateway's, and a server has no use for them.
pub fn strip(rollout: &Rollout, req: &mut RequestHeader) {
    let (header, force_cookie) = rollout.force_names();
    if let Some(h) = header {
        req.remove_header(h);
    }
    let values: Vec<String> = req
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect();
    if values.is_empty() {
        return;
    }
    req.remove_header(&http::header::COOKIE);
    for value in values {
        let kept = without_cookie(&value, AFFINITY_COOKIE).and_then(|v| match force_cookie {
            Some(name) => without_cookie(&v, name),
            None => Some(v),
        });
        if let Some(kept) = kept {
            // The value came from a valid header and only lost pairs: it stays valid.
            let _ = req.append_header(http::header::COOKIE, kept);
        }
    }
}

/// Add the affinity cookie to an answer when the request did not carry the key it was decided
/// with. `Secure` when the public URL is HTTPS: the gateway's own listeners are plain HTTP and
/// TLS, when used, ends in front of it.
pub fn set_affinity(header: &mut ResponseHeader, store: &Store, ctx: &RequestCtx) {
    let Some(key) = ctx.affinity else {
        return;
    };
    let secure = if store.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let path = if store.path.is_empty() {
        "/"
    } else {
        &store.path
    };
    let value = format!(
        "{AFFINITY_COOKIE}={}; Path={path}; HttpOnly; SameSite=Lax{secure}",
        key.to_cookie()
    );
    // Store paths are validated plain ASCII: the value is a valid header value.
    let _ = header.append_header(http::header::SET_COOKIE, value);
}

/// A finished request of a store with a canary: count the forcing attempt and the fallback, and
/// report the outcome to the guard (failed = a 5xx answer or an upstream error; a client that
/// left before any answer says nothing about the pool). A rollback is logged and counted here.
pub fn finished(rollout: &Rollout, store: &str, status: u16, ctx: &RequestCtx) {
    if let Some(forced) = ctx.forced {
        metrics::canary_forced(store, forced.as_str());
    }
    if ctx.fell_back {
        metrics::canary_fallback(store);
    }
    let Some(pool) = ctx.pool else {
        return;
    };
    let upstream_failed = ctx.upstream_error.is_some();
    if status == 0 && !upstream_failed {
        return;
    }
    let failed = upstream_failed || status >= 500;
    let now = Instant::now();
    if let Some(evidence) = rollout.record(pool, failed, now.duration_since(ctx.started), now) {
        rolled_back(store, &evidence);
    }
}

/// The one log line and the counter of a rollback.
fn rolled_back(store: &str, e: &Evidence) {
    metrics::canary_rollback(store, e.cause.as_str());
    metrics::canary_share(store, 0.0);
    tracing::warn!(
        store,
        cause = e.cause.as_str(),
        canary_rate = e.canary_rate,
        stable_rate = e.stable_rate,
        canary_failures = e.canary.failures,
        canary_requests = e.canary.requests,
        stable_failures = e.stable.failures,
        stable_requests = e.stable.requests,
        z = e.z,
        p_value = e.p_value,
        "canary rolled back: share set to 0 until an operator raises it"
    );
}
