//! Every other path under a StoreFront store (resources, authentication, discovery, ...) is
//! proxied in streaming mode: the gateway picks a server, maps the path, and rewrites the URLs in
//! response headers. Bodies pass untouched.

use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::Session;
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType};

use super::ctx::RequestCtx;
use super::{answer, forwarding};
use crate::backend::storefront::host_header;
use crate::config::Backend;

/// Choose the server for this attempt; `None` when every server is down or already failed.
pub fn peer(ctx: &mut RequestCtx) -> pingora::Result<Box<HttpPeer>> {
    let Some(route) = ctx.store.clone() else {
        return Error::e_explain(ErrorType::InternalError, "passthrough without a store");
    };
    let Backend::StoreFront(sf) = &route.store.backend else {
        return Error::e_explain(ErrorType::InternalError, "passthrough to a farm store");
    };
    let Some(addr) = route.pools.first().and_then(|p| p.select(&ctx.tried)) else {
        return Error::e_explain(ErrorType::ConnectNoRoute, "no StoreFront server available");
    };
    ctx.backend = Some(addr);
    let mut peer = HttpPeer::new(addr, sf.tls, sf.host.clone().unwrap_or_default());
    peer.options.connection_timeout = Some(sf.connect_timeout);
    peer.options.total_connection_timeout = Some(sf.connect_timeout);
    peer.options.read_timeout = Some(sf.read_timeout);
    peer.options.write_timeout = Some(sf.read_timeout);
    Ok(Box::new(peer))
}

/// Path on the server, `Host`, and forwarding headers.
pub fn upstream_request(
    session: &Session,
    req: &mut RequestHeader,
    ctx: &RequestCtx,
) -> pingora::Result<()> {
    let (Some(route), Some(target), Some(addr)) = (&ctx.store, &ctx.upstream_target, ctx.backend)
    else {
        return Error::e_explain(ErrorType::InternalError, "passthrough without a target");
    };
    let Backend::StoreFront(sf) = &route.store.backend else {
        return Error::e_explain(ErrorType::InternalError, "passthrough to a farm store");
    };
    let uri = target
        .parse::<http::Uri>()
        .map_err(|e| Error::because(ErrorType::InvalidHTTPHeader, "upstream path", e))?;
    req.set_uri(uri);
    req.insert_header("host", host_header(sf, addr))?;
    forwarding::add_forwarded_headers(session, req)
}

/// Point `Location` and challenges at the public side.
pub fn upstream_response(resp: &mut ResponseHeader, ctx: &RequestCtx) -> pingora::Result<()> {
    if let Some(route) = &ctx.store {
        if let Backend::StoreFront(sf) = &route.store.backend {
            answer::rewrite_headers(resp, &route.store, &sf.url_map)?;
        }
    }
    Ok(())
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
