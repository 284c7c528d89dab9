//! Simulators: real HTTP servers with state that stand in for the servers behind the gateway,
//! used by `sessiongate demo` and the integration tests.
//!
//! - [`storefront`]: a Citrix StoreFront 3.x store (Sessions Service, endpoints, a CitrixAuth
//!   protected resource, a redirect), with test controls and fault injection.
//! - [`farm`]: a legacy XenApp/XenDesktop farm's XML service (NFuse protocol), with the same
//!   kind of controls.

pub mod farm;
pub mod storefront;

use pingora::protocols::http::ServerSession;

/// A request body as a simulator read it.
#[derive(Debug, Default)]
pub struct ReadBody {
    /// The first bytes of the body, at most the `keep` asked for.
    pub kept: Vec<u8>,
    /// How many bytes arrived in all.
    pub seen: usize,
    /// The body was read to its end, so the connection can carry another request.
    pub complete: bool,
}

/// Read a request body, keeping its first `keep` bytes and reading (then dropping) at most
/// `drain` in all: an oversized body is read far enough that the answer reaches the client
/// cleanly (closing a socket with unread data makes the kernel reset the connection).
pub async fn read_body(session: &mut ServerSession, keep: usize, drain: usize) -> ReadBody {
    let mut body = ReadBody::default();
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                body.seen = body.seen.saturating_add(chunk.len());
                if body.seen > drain {
                    return body;
                }
                let room = keep.saturating_sub(body.kept.len());
                body.kept
                    .extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
            }
            Ok(None) => {
                body.complete = true;
                return body;
            }
            Err(_) => return body,
        }
    }
}
