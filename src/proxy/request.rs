//! What every Sessions Service request goes through, whatever backs its store: the header rules
//! (405, 401, 406, 400, 413; 404 for an id that cannot name a session), then the body read with
//! its cap and deadline (`100 Continue` first when asked for), parsed and validated.

use std::time::Duration;

use pingora::proxy::Session;

use super::body;
use super::checks::check_header;
use super::error::GatewayError;
use crate::config::Store;
use crate::protocol::launch_params::{self, LaunchParams};
use crate::protocol::session_params::{self, Limits, SessionParams};
use crate::routing::Operation;

/// A validated request body.
pub enum Params {
    /// `sessionparams` of `available`, `disconnect`, `logoff`.
    Session(SessionParams),
    /// `launchparams` of a launch (boxed: sixteen optional fields).
    Launch(Box<LaunchParams>),
}

/// The header rules of a Sessions Service request.
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

/// Read the body of a checked request (answering `Expect: 100-continue`) within `deadline`,
/// parse and validate it.
pub async fn read_params(
    session: &mut Session,
    store: &Store,
    operation: &Operation,
    deadline: Duration,
) -> Result<Params, GatewayError> {
    if body::expects_continue(session) {
        // Pingora marks a connection for closing when anything is written before the body is
        // read, the interim answer included; the final answer comes after the body, so the
        // connection can stay.
        session.set_close_on_response_before_downstream_finish(false);
        let written = session.write_continue_response().await;
        session.set_close_on_response_before_downstream_finish(true);
        written.map_err(|_| GatewayError::BodyIncomplete)?;
    }
    let raw = body::read(session, store.max_body_bytes, deadline).await?;
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
