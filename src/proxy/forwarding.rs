//! What the gateway forwards of a client's request, and what it says about the client.
//!
//! `X-Forwarded-*`: StoreFront takes the client address from them when the client does not say,
//! so the gateway states what it saw and never passes on what the client claimed.

use bytes::Bytes;
use pingora::http::RequestHeader;
use pingora::proxy::Session;

use super::error::GatewayError;
use super::request_id::{self, RequestId};
use crate::backend::storefront::UpstreamError;

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

/// Header names the client's `Connection` header nominates: they describe its connection to the
/// gateway, not the request, so they are not forwarded (RFC 9110 §7.6.1).
pub fn nominated(req: &RequestHeader) -> Vec<String> {
    req.headers
        .get_all("connection")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect()
}

/// A validated request body in its canonical form, ready to be forwarded.
pub struct Canonical {
    pub body: Bytes,
    pub content_type: &'static str,
    /// The one media type the answer may have.
    pub accept: &'static str,
}

/// Replace any client-sent `X-Forwarded-For/-Host/-Proto` with the gateway's own view, and
/// `X-Request-Id` with the request's id.
pub fn add_forwarded_headers(
    session: &Session,
    req: &mut RequestHeader,
    id: &RequestId,
) -> pingora::Result<()> {
    for name in [
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "forwarded",
        request_id::HEADER,
    ] {
        req.remove_header(name);
    }
    req.insert_header(request_id::HEADER, id.as_str())?;
    if let Some(ip) = session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map(|a| a.ip().to_string())
    {
        req.insert_header("x-forwarded-for", ip)?;
    }
    if let Some(host) = session.req_header().headers.get("host") {
        req.insert_header("x-forwarded-host", host.clone())?;
    }
    // The gateway's own listeners are plain HTTP; TLS, when used, ends in front of it.
    req.insert_header("x-forwarded-proto", "http")?;
    Ok(())
}

/// The upstream request of a sessions or endpoints call: `target` on the server, the client's
/// headers minus the ones the gateway owns, canonical media types and exact length.
pub fn sessions_request(
    session: &Session,
    target: &str,
    method: &str,
    canonical: Option<&Canonical>,
    id: &RequestId,
) -> Result<RequestHeader, GatewayError> {
    let broken = |_| GatewayError::Upstream(UpstreamError::Broken);
    let client = session.req_header();
    let mut req = RequestHeader::build(method, target.as_bytes(), Some(client.headers.len() + 4))
        .map_err(broken)?;
    let nominated = nominated(client);
    for (name, value) in client.headers.iter() {
        let name_str = name.as_str();
        if !NOT_FORWARDED.contains(&name_str) && !nominated.iter().any(|n| n == name_str) {
            req.append_header(name.clone(), value.clone())
                .map_err(broken)?;
        }
    }
    add_forwarded_headers(session, &mut req, id).map_err(broken)?;
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
