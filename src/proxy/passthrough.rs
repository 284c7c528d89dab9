//! Every other path under a StoreFront store (resources, authentication, discovery, ...) is
//! proxied in streaming mode: the gateway picks a server, maps the path, and rewrites the URLs in
//! response headers. Bodies pass untouched.

use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::Session;
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType};

use super::ctx::RequestCtx;
use super::forwarding;
use crate::backend::storefront::response::rewrite_headers;
use crate::backend::storefront::Servers;
use crate::routing::Upstreams;

/// The StoreFront servers of the request's store.
fn servers(ctx: &RequestCtx) -> pingora::Result<&Servers> {
    match ctx.store.as_deref().map(|s| &s.upstreams) {
        Some(Upstreams::StoreFront(servers)) => Ok(servers),
        Some(Upstreams::Farms(_)) => {
            Error::e_explain(ErrorType::InternalError, "passthrough to a farm store")
        }
        None => Error::e_explain(ErrorType::InternalError, "passthrough without a store"),
    }
}

/// Choose the server for this attempt; `None` when every server is down or already failed.
pub fn peer(ctx: &mut RequestCtx) -> pingora::Result<Box<HttpPeer>> {
    let servers = servers(ctx)?;
    let Some(addr) = servers.pool.select(&ctx.tried) else {
        return Error::e_explain(ErrorType::ConnectNoRoute, "no StoreFront server available");
    };
    let peer = servers.target().peer(addr);
    ctx.backend = Some(addr);
    Ok(Box::new(peer))
}

/// Path on the server, `Host`, and forwarding headers.
pub fn upstream_request(
    session: &Session,
    req: &mut RequestHeader,
    ctx: &RequestCtx,
) -> pingora::Result<()> {
    let servers = servers(ctx)?;
    let (Some(target), Some(addr)) = (&ctx.upstream_target, ctx.backend) else {
        return Error::e_explain(ErrorType::InternalError, "passthrough without a target");
    };
    let uri = target
        .parse::<http::Uri>()
        .map_err(|e| Error::because(ErrorType::InvalidHTTPHeader, "upstream path", e))?;
    req.set_uri(uri);
    for name in forwarding::nominated(session.req_header()) {
        req.remove_header(name.as_str());
    }
    req.insert_header("host", servers.target().host_header(addr))?;
    forwarding::add_forwarded_headers(session, req, &ctx.request_id)
}

/// Point `Location` and challenges at the public side.
pub fn upstream_response(resp: &mut ResponseHeader, ctx: &RequestCtx) -> pingora::Result<()> {
    match (&ctx.store, servers(ctx)) {
        (Some(store), Ok(servers)) => rewrite_headers(resp, &store.config, &servers.url_map),
        _ => Ok(()),
    }
}

/// HTTP/1.0 clients cannot read the chunked framing Pingora adds to answers without a length:
/// they get a body delimited by the connection's close instead.
pub fn downstream_response(session: &mut Session, resp: &mut ResponseHeader) {
    if session.req_header().version == http::Version::HTTP_10
        && resp.headers.contains_key("transfer-encoding")
    {
        resp.remove_header("transfer-encoding");
        session.set_keepalive(None);
    }
}
