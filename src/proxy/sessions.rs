//! The Sessions Service (and endpoints) in origin mode: check, read and canonicalise the request,
//! send it to a StoreFront server, rewrite the answer, reply with exact framing.

use bytes::Bytes;
use pingora::http::RequestHeader;
use pingora::proxy::Session;

use super::body;
use super::checks::check_header;
use super::ctx::RequestCtx;
use super::error::GatewayError;
use super::{answer, forwarding};
use crate::backend::storefront::StoreFrontClient;
use crate::config::{ActiveSessionPolicy, Backend, Store};
use crate::metrics::ActiveQueryOutcome;
use crate::protocol::session_params::{self, Limits};
use crate::protocol::{launch_params, media};
use crate::routing::{Operation, StoreRoute};

/// Request headers the gateway sets itself on a sessions call, or that describe the client's
/// connection or body encoding; every other client header is forwarded.
const NOT_FORWARDED: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "accept",
    "accept-encoding",
    "expect",
    "transfer-encoding",
    "te",
    "trailer",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "upgrade",
];

/// A validated request ready to be forwarded.
struct Canonical {
    body: Bytes,
    content_type: &'static str,
    accept: &'static str,
}

/// Apply the store's active-session policy to a sessionparams request.
fn apply_policy(
    store: &Store,
    operation: &Operation,
    params: &mut session_params::SessionParams,
    ctx: &mut RequestCtx,
) -> Result<(), GatewayError> {
    if operation != &Operation::ListSessions || params.include_active_sessions != Some(true) {
        return Ok(());
    }
    let outcome = match store.active_sessions {
        ActiveSessionPolicy::Allow => ActiveQueryOutcome::Allowed,
        ActiveSessionPolicy::Strip => {
            params.include_active_sessions = Some(false);
            ActiveQueryOutcome::Stripped
        }
        ActiveSessionPolicy::Reject => ActiveQueryOutcome::Refused,
    };
    ctx.active_query = Some(outcome);
    if outcome == ActiveQueryOutcome::Refused {
        return Err(GatewayError::ActiveSessionsRefused);
    }
    Ok(())
}

/// A validated request body.
pub enum Params {
    /// `sessionparams` of `available`, `disconnect`, `logoff`.
    Session(session_params::SessionParams),
    /// `launchparams` of a launch (boxed: sixteen optional fields).
    Launch(Box<launch_params::LaunchParams>),
}

/// Header checks (405, 401, 406, 400, 413) of a Sessions Service request; `BadSessionId` is 404.
pub fn check(session: &Session, store: &Store, operation: &Operation) -> Result<(), GatewayError> {
    // An id that cannot name a session is a resource that does not exist, whatever the method.
    if let Operation::BadSessionId = operation {
        return Err(GatewayError::SessionNotFound);
    }
    check_header(
        session.req_header(),
        operation,
        body::declared_length(session),
        store.max_body_bytes,
    )
}

/// Read the body of a checked request (answering `Expect: 100-continue`), parse and validate it.
pub async fn read_params(
    session: &mut Session,
    store: &Store,
    operation: &Operation,
) -> Result<Params, GatewayError> {
    if body::expects_continue(session) {
        session
            .write_continue_response()
            .await
            .map_err(|_| GatewayError::BodyIncomplete)?;
    }
    let raw = body::read(session, store.max_body_bytes).await?;
    let Some(content_type) = operation.request_media() else {
        return Err(GatewayError::NoRoute);
    };
    if raw.is_empty() {
        return Err(GatewayError::BodyMissing(content_type));
    }
    match operation {
        Operation::LaunchIca { .. } => launch_params::parse(&raw)
            .map(|p| Params::Launch(Box::new(p)))
            .map_err(GatewayError::Params),
        _ => {
            let tickets = operation != &Operation::ListSessions;
            session_params::parse(&raw, tickets, &Limits::default())
                .map(Params::Session)
                .map_err(GatewayError::Params)
        }
    }
}

/// Header checks, body read, parse, validate, policy, canonical body.
async fn canonicalise(
    session: &mut Session,
    store: &Store,
    operation: &Operation,
    ctx: &mut RequestCtx,
) -> Result<Canonical, GatewayError> {
    check(session, store, operation)?;
    let Some(accept) = operation.response_media() else {
        return Err(GatewayError::NoRoute);
    };
    let (body, content_type) = match read_params(session, store, operation).await? {
        Params::Launch(params) => (params.to_xml(), media::LAUNCH_PARAMS_UTF8),
        Params::Session(mut params) => {
            apply_policy(store, operation, &mut params, ctx)?;
            (params.to_xml(), media::SESSION_PARAMS_UTF8)
        }
    };
    Ok(Canonical {
        body: Bytes::from(body),
        content_type,
        accept,
    })
}

/// The upstream request: same path below the store, the client's headers minus the ones the
/// gateway owns, canonical media types and exact length.
fn upstream_request(
    session: &Session,
    target: &str,
    method: &str,
    canonical: Option<&Canonical>,
) -> Result<RequestHeader, GatewayError> {
    let broken = |_| GatewayError::Upstream(crate::backend::storefront::UpstreamError::Broken);
    let client = session.req_header();
    let mut req = RequestHeader::build(method, target.as_bytes(), Some(client.headers.len() + 4))
        .map_err(broken)?;
    for (name, value) in client.headers.iter() {
        if !NOT_FORWARDED.contains(&name.as_str()) {
            req.append_header(name.clone(), value.clone())
                .map_err(broken)?;
        }
    }
    forwarding::add_forwarded_headers(session, &mut req).map_err(broken)?;
    match canonical {
        Some(c) => {
            req.insert_header("content-type", c.content_type)
                .map_err(broken)?;
            req.insert_header("accept", c.accept).map_err(broken)?;
            req.insert_header("content-length", c.body.len())
                .map_err(broken)?;
        }
        None => {
            if let Some(accept) = client.headers.get("accept") {
                req.insert_header("accept", accept.clone())
                    .map_err(broken)?;
            }
        }
    }
    Ok(req)
}

/// Serve a Sessions Service or endpoints request completely. Errors are answered by the caller.
pub async fn serve(
    client: &StoreFrontClient,
    session: &mut Session,
    route: &StoreRoute,
    operation: &Operation,
    rest: &str,
    ctx: &mut RequestCtx,
) -> Result<(), GatewayError> {
    let store = &route.store;
    let Backend::StoreFront(sf) = &store.backend else {
        return Err(GatewayError::NoRoute);
    };
    let canonical = if operation.is_sessions() {
        Some(canonicalise(session, store, operation, ctx).await?)
    } else {
        None
    };
    // The sessions API has no query parameters; only endpoints may carry one through.
    let rest_path = if operation.is_sessions() {
        rest.split(['?', '#']).next().unwrap_or("")
    } else {
        rest
    };
    let target = format!("{}/{}", sf.upstream_path, rest_path);
    // A HEAD for the endpoints document is answered from a GET: its length is the rewritten one.
    let method = if operation.is_sessions() {
        "POST"
    } else {
        "GET"
    };
    let request = upstream_request(session, &target, method, canonical.as_ref())?;
    let body = canonical.map(|c| c.body).unwrap_or_default();
    let exchange = client
        .send(sf, route.pools.first(), request, body)
        .await
        .map_err(GatewayError::Upstream)?;
    ctx.backend = Some(exchange.backend);
    crate::metrics::Metrics::get()
        .upstream_duration
        .with_label_values(&[store.name.as_str()])
        .observe(exchange.elapsed.as_secs_f64());
    let (header, body) = answer::build(store, sf, operation, exchange)?;
    let head_only = session.req_header().method == http::Method::HEAD;
    let written = async {
        session
            .write_response_header(Box::new(header), head_only)
            .await?;
        if !head_only {
            session.write_response_body(Some(body), true).await?;
        }
        Ok::<_, Box<pingora::Error>>(())
    };
    // The client went away: nothing more to answer.
    if let Err(e) = written.await {
        tracing::debug!(error = %e, "client closed before the answer was written");
    }
    Ok(())
}
