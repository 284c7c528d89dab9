//! Reading a request body with a size cap and a deadline.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use pingora::proxy::Session;

use super::error::GatewayError;

/// Time spent draining an unread body so the connection can be reused.
const DRAIN_DEADLINE: Duration = Duration::from_secs(2);

/// Does the request wait for `100 Continue` before sending its body?
pub fn expects_continue(session: &Session) -> bool {
    session
        .req_header()
        .headers
        .get_all("expect")
        .iter()
        .any(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// The declared `Content-Length`, if one is present and well-formed. (Pingora refuses requests
/// whose Content-Length is malformed before any hook runs.)
pub fn declared_length(session: &Session) -> Option<usize> {
    session
        .req_header()
        .headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Read the whole body within `deadline`, refusing more than `limit` bytes (chunked bodies have no
/// length to check up front, so the count is kept as chunks arrive).
pub async fn read(
    session: &mut Session,
    limit: usize,
    deadline: Duration,
) -> Result<Bytes, GatewayError> {
    let read_all = async {
        let mut buf = BytesMut::new();
        loop {
            match session.read_request_body().await {
                Ok(Some(chunk)) => {
                    if buf.len() + chunk.len() > limit {
                        return Err(GatewayError::BodyTooLarge(limit));
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(buf.freeze()),
                Err(_) => return Err(GatewayError::BodyIncomplete),
            }
        }
    };
    pingora::time::timeout(deadline, read_all)
        .await
        .unwrap_or(Err(GatewayError::BodyTimeout))
}

/// Consume what is left of a body of at most `limit` bytes so the connection can carry the next
/// request. `true` when the body is done.
pub async fn drain(session: &mut Session, limit: usize) -> bool {
    if session.is_body_done() {
        return true;
    }
    if expects_continue(session) || declared_length(session).is_some_and(|l| l > limit) {
        // The client waits for 100 Continue or announced too much: close instead.
        return false;
    }
    let drained = async {
        let mut seen = 0usize;
        while let Ok(Some(chunk)) = session.read_request_body().await {
            seen += chunk.len();
            if seen > limit {
                return false;
            }
        }
        session.is_body_done()
    };
    pingora::time::timeout(DRAIN_DEADLINE, drained)
        .await
        .unwrap_or(false)
}
