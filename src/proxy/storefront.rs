//! The Sessions Service and endpoints document of a StoreFront-backed store, in origin mode:
//! shared checks, the body read and canonicalised (store policy applied), one exchange with a
//! server of the pool, and the server's answer, rewritten by the backend, written with exact
//! framing.

use bytes::Bytes;
use pingora::proxy::Session;

use super::answer;
use super::canary::{self, ClientIds};
use super::ctx::RequestCtx;
use super::error::GatewayError;
use super::forwarding::{self, Canonical};
use super::request::{self, Params};
use crate::backend::exchange::Replay;
use crate::backend::storefront::response::{self, Asked};
use crate::backend::storefront::{self, Servers, StoreFrontClient};
use crate::config::Store;
use crate::metrics;
use crate::protocol::media;
use crate::routing::canary::PoolName;
use crate::routing::rollout::Rollout;
use crate::routing::{self, Operation};

/// What the server is asked, by route.
fn asked(operation: &Operation) -> Option<Asked> {
    match operation {
        Operation::ListSessions => Some(Asked::SessionList),
        Operation::DisconnectSessions | Operation::LogOffSessions => Some(Asked::SessionResults),
        Operation::LaunchIca { .. } | Operation::BadSessionId => Some(Asked::Launch),
        Operation::Endpoints => Some(Asked::Endpoints),
        Operation::Reserved | Operation::Passthrough => None,
    }
}

/// Listings and the endpoints document change nothing on the server: they may be sent again on
/// another connection when a pooled one turns out closed. Disconnect, logoff and launch never.
fn replay(operation: &Operation) -> Replay {
    match operation {
        Operation::ListSessions | Operation::Endpoints => Replay::IfStale,
        _ => Replay::Never,
    }
}

/// Serve a Sessions Service or endpoints request completely. Errors are answered by the caller.
/// On a store with a canary, the pool is decided once the body named the client.
pub async fn serve(
    client: &StoreFrontClient,
    session: &mut Session,
    live: &routing::Store,
    servers: &Servers,
    operation: &Operation,
    rest: &str,
    ctx: &mut RequestCtx,
) -> Result<(), GatewayError> {
    let store = &*live.config;
    let rollout = live.rollout.as_ref();
    let asked = asked(operation).ok_or(GatewayError::NoRoute)?;
    let sessions = operation.is_sessions();
    let (canonical, ids) = if sessions {
        request::check(session, store, operation)?;
        let (canonical, ids) = canonicalise(session, store, operation, ctx).await?;
        (Some(canonical), Some(ids))
    } else {
        (None, None)
    };
    let (rest, query) = split_query(rest, sessions);
    if let Some(rollout) = rollout {
        decide_pool(rollout, session, store, operation, query, ids.as_ref(), ctx)?;
    }
    // A HEAD for the endpoints document is answered from a GET: its length is the rewritten one.
    let method = if sessions { "POST" } else { "GET" };
    let path = servers.upstream_path(rest);
    let mut upstream =
        forwarding::sessions_request(session, &path, method, canonical.as_ref(), ctx)?;
    if let Some(rollout) = rollout {
        canary::strip(rollout, &mut upstream);
    }
    let body = canonical.map(|c| c.body).unwrap_or_default();
    let pool = canary::resolve(servers, ctx);
    let exchange = client
        .send(servers, pool, upstream, body, replay(operation))
        .await
        .map_err(GatewayError::StoreFront)?;
    ctx.backend = Some(exchange.backend);
    ctx.upstream_elapsed = Some(exchange.elapsed);
    let pool = ctx.pool.map_or(metrics::STABLE_POOL, PoolName::as_str);
    metrics::upstream_duration(&store.name, pool, exchange.elapsed);
    let served = ctx.pool;
    let launch_url = |id: &str| match (rollout, served) {
        (Some(r), Some(pool)) => r.launch_url(store, id, pool),
        _ => store.launch_url(id),
    };
    let (mut header, body) = response::build(store, servers, asked, exchange, &launch_url)
        .map_err(GatewayError::StoreFront)?;
    canary::set_affinity(&mut header, store, ctx);
    answer::write(session, header, body).await;
    Ok(())
}

/// The path of a call and its query. The sessions API has no query parameters (only a launch's
/// canary tag); only endpoints may carry one through to the server, as part of the path.
fn split_query(rest: &str, sessions: bool) -> (&str, Option<&str>) {
    if !sessions {
        return (rest, None);
    }
    let (path, tail) = rest.split_at(rest.find(['?', '#']).unwrap_or(rest.len()));
    let query = tail
        .strip_prefix('?')
        .map(|q| q.split('#').next().unwrap_or(""));
    (path, query)
}

/// Decide the pool of a request on a store with a canary; a launch whose tag does not open is a
/// 404.
fn decide_pool(
    rollout: &Rollout,
    session: &Session,
    store: &Store,
    operation: &Operation,
    query: Option<&str>,
    ids: Option<&ClientIds>,
    ctx: &mut RequestCtx,
) -> Result<(), GatewayError> {
    let tag = match operation {
        Operation::LaunchIca { session_id } => rollout
            .launch_pool(store, session_id, query)
            .map_err(|_| GatewayError::LaunchTag)?,
        _ => None,
    };
    canary::decide(rollout, session, ids, tag, ctx);
    Ok(())
}

/// Read the body of a checked request, apply the store's active-session policy, and write the
/// canonical request.
async fn canonicalise(
    session: &mut Session,
    store: &Store,
    operation: &Operation,
    ctx: &mut RequestCtx,
) -> Result<(Canonical, ClientIds), GatewayError> {
    let accept = operation.response_media().ok_or(GatewayError::NoRoute)?;
    let (body, content_type, ids) =
        match request::read_params(session, store, operation, ctx.body_timeout).await? {
            Params::Launch(params) => {
                let ids = ClientIds {
                    device_id: params.device_id().map(str::to_string),
                    client_name: params.client_name().map(str::to_string),
                };
                (params.to_xml(), media::LAUNCH_PARAMS_UTF8, ids)
            }
            Params::Session(mut params) => {
                if operation == &Operation::ListSessions {
                    ctx.active_query = storefront::apply_policy(store.active_sessions, &mut params)
                        .map_err(GatewayError::StoreFront)?;
                }
                let ids = ClientIds {
                    device_id: params.device_id.clone(),
                    client_name: Some(params.client_name.clone()),
                };
                (params.to_xml(), media::SESSION_PARAMS_UTF8, ids)
            }
        };
    let canonical = Canonical {
        body: Bytes::from(body),
        content_type,
        accept,
    };
    Ok((canonical, ids))
}
