//! `POST /reload`: reload the configuration file now, and say how it went.
//!
//! - 200 `{"outcome": "success", "hash": …, "restart_needed": [keys]}`: the new configuration
//!   serves; the keys listed changed in the file but wait for a restart.
//! - 422 `{"outcome": "failure", "error": …}`: the file is unreadable or invalid (every
//!   problem with its key, as `-t` prints them); the running configuration still serves.
//! - 404 when the gateway was not started from a file (the demo), 405 for other methods.
//!
//! Guarded like every change ([`super::access`]). A request body is not expected and not read,
//! so the connection is closed after the answer.

use http::{header, Method, Response};
use pingora::protocols::http::ServerSession;
use serde_json::json;

use super::access::MutationAccess;
use super::{answer, error, refusal};
use crate::server::reload::{Reloader, Trigger};

/// The path of the endpoint.
pub const PATH: &str = "/reload";

/// Answer a request for [`PATH`].
pub async fn serve(
    reloader: Option<&Reloader>,
    access: &MutationAccess,
    session: &mut ServerSession,
) -> Response<Vec<u8>> {
    if session.req_header().method != Method::POST {
        let mut r = error(405, "use POST to reload the configuration");
        r.headers_mut()
            .insert(header::ALLOW, http::HeaderValue::from_static("POST"));
        return r;
    }
    if let Some(refused) = refusal(access, session, "reload the configuration") {
        return refused;
    }
    session.set_keepalive(None);
    let Some(reloader) = reloader else {
        return error(
            404,
            "this gateway was not started from a configuration file",
        );
    };
    match reloader.reload(Trigger::Admin).await {
        Ok(done) => answer(
            200,
            &json!({
                "outcome": "success",
                "hash": done.hash,
                "restart_needed": done.restart_needed,
            }),
        ),
        Err(e) => answer(
            422,
            &json!({ "outcome": "failure", "error": e.to_string() }),
        ),
    }
}
