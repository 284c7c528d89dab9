//! The Sessions Service and endpoints document of a StoreFront-backed store, in origin mode:
//! shared checks, the body read and canonicalised (store policy applied), one exchange with a
//! server of the pool, and the server's answer, rewritten by the backend, written with exact
//! framing.

use bytes::Bytes;
use pingora::proxy::Session;

use super::answer;
use super::ctx::RequestCtx;
use super::error::GatewayError;
use super::forwarding::{self, Canonical};
use super::request::{self, Params};
use crate::backend::storefront::response::{self, Asked};
use crate::backend::storefront::{self, Servers, StoreFrontClient};
use crate::config::Store;
use crate::metrics;
use crate::protocol::media;
use crate::routing::Operation;

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

/// Serve a Sessions Service or endpoints request completely. Errors are answered by the caller.
pub async fn serve(
    client: &StoreFrontClient,
    session: &mut Session,
    store: &Store,
    servers: &Servers,
    operation: &Operation,
    rest: &str,
    ctx: &mut RequestCtx,
) -> Result<(), GatewayError> {
    let asked = asked(operation).ok_or(GatewayError::NoRoute)?;
    let sessions = operation.is_sessions();
    let canonical = if sessions {
        request::check(session, store, operation)?;
        Some(canonicalise(session, store, operation, ctx).await?)
    } else {
        None
    };
    // The sessions API has no query parameters; only endpoints may carry one through.
    let rest = if sessions {
        rest.split(['?', '#']).next().unwrap_or("")
    } else {
        rest
    };
    // A HEAD for the endpoints document is answered from a GET: its length is the rewritten one.
    let method = if sessions { "POST" } else { "GET" };
    let path = servers.upstream_path(rest);
    let upstream =
        forwarding::sessions_request(session, &path, method, canonical.as_ref(), &ctx.request_id)?;
    let body = canonical.map(|c| c.body).unwrap_or_default();
    let exchange = client
        .send(servers, upstream, body)
        .await
        .map_err(GatewayError::StoreFront)?;
    ctx.backend = Some(exchange.backend);
    ctx.upstream_elapsed = Some(exchange.elapsed);
    metrics::upstream_duration(&store.name, exchange.elapsed);
    let (header, body) =
        response::build(store, servers, asked, exchange).map_err(GatewayError::StoreFront)?;
    answer::write(session, header, body).await;
    Ok(())
}

/// Read the body of a checked request, apply the store's active-session policy, and write the
/// canonical request.
async fn canonicalise(
    session: &mut Session,
    store: &Store,
    operation: &Operation,
    ctx: &mut RequestCtx,
) -> Result<Canonical, GatewayError> {
    let accept = operation.response_media().ok_or(GatewayError::NoRoute)?;
    let (body, content_type) =
        match request::read_params(session, store, operation, ctx.body_timeout).await? {
            Params::Launch(params) => (params.to_xml(), media::LAUNCH_PARAMS_UTF8),
            Params::Session(mut params) => {
                if operation == &Operation::ListSessions {
                    ctx.active_query = storefront::apply_policy(store.active_sessions, &mut params)
                        .map_err(GatewayError::StoreFront)?;
                }
                (params.to_xml(), media::SESSION_PARAMS_UTF8)
            }
        };
    Ok(Canonical {
        body: Bytes::from(body),
        content_type,
        accept,
    })
}
