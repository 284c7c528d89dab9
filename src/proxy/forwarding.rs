//! `X-Forwarded-*` headers: StoreFront takes the client address from them when the client does
//! not say, so the gateway states what it saw and never passes on what the client claimed.

use pingora::http::RequestHeader;
use pingora::proxy::Session;

/// Replace any client-sent `X-Forwarded-For/-Host/-Proto` with the gateway's own view.
pub fn add_forwarded_headers(session: &Session, req: &mut RequestHeader) -> pingora::Result<()> {
    for name in [
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "forwarded",
    ] {
        req.remove_header(name);
    }
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
