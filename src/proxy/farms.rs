//! The Sessions Service of a farm-backed store, answered by the gateway itself: shared checks,
//! the token verified *before* the body is read (so an unauthenticated caller never reaches the
//! XML parser), the parameters read, the farms asked by the backend, and its document written.

use std::sync::Arc;

use bytes::Bytes;
use pingora::proxy::Session;

use super::answer;
use super::ctx::RequestCtx;
use super::error::GatewayError;
use super::request::{self, Params};
use crate::backend::farm::{sessions, FarmClient, LaunchClient};
use crate::config::Store;
use crate::identity::{Identity, Verifier};
use crate::metrics;
use crate::protocol::{citrix_auth, media};
use crate::routing::{FarmUpstreams, Operation};

/// Serve a Sessions Service request of a farm-backed store. Errors are answered by the caller.
pub async fn serve(
    client: &Arc<FarmClient>,
    session: &mut Session,
    store: &Store,
    upstreams: &FarmUpstreams,
    operation: &Operation,
    ctx: &mut RequestCtx,
) -> Result<(), GatewayError> {
    request::check(session, store, operation)?;
    let identity = verify(session, store, &upstreams.verifier).await?;
    let credentials = identity.credentials();
    let farms = &upstreams.farms;
    let (media_type, body) = match (
        operation,
        request::read_params(session, store, operation, ctx.body_timeout).await?,
    ) {
        (Operation::ListSessions, Params::Session(p)) => {
            let listed = sessions::list(client, store, farms, &credentials, &p)
                .await
                .map_err(GatewayError::Farm)?;
            ctx.active_query = listed.active_query;
            (media::SESSION_STATE, listed.body)
        }
        (Operation::DisconnectSessions | Operation::LogOffSessions, Params::Session(p)) => {
            let logoff = operation == &Operation::LogOffSessions;
            let body = sessions::end(client, store, farms, &credentials, &p, logoff).await;
            (media::SESSION_RESULTS, body)
        }
        (Operation::LaunchIca { session_id }, Params::Launch(p)) => {
            let who = LaunchClient::from_params(&p).map_err(GatewayError::Params)?;
            let body = sessions::launch(client, store, farms, &credentials, session_id, &who)
                .await
                .map_err(GatewayError::Farm)?;
            (media::LAUNCH_DATA, body)
        }
        _ => return Err(GatewayError::NoRoute),
    };
    respond(session, media_type, body).await
}

/// `GET {store}/endpoints/v1` of a farm-backed store: the gateway's own endpoints document. Like
/// StoreFront's, it needs no token.
pub async fn endpoints(session: &mut Session, store: &Store) -> Result<(), GatewayError> {
    let accept = session
        .req_header()
        .headers
        .get_all("accept")
        .into_iter()
        .map(|v| v.as_bytes());
    if !media::accepts(accept, media::ENDPOINTS) {
        return Err(GatewayError::NotAcceptable(media::ENDPOINTS));
    }
    respond(
        session,
        media::ENDPOINTS,
        sessions::endpoints_document(store),
    )
    .await
}

async fn respond(
    session: &mut Session,
    media_type: &'static str,
    body: Vec<u8>,
) -> Result<(), GatewayError> {
    let header = answer::ok(media_type, body.len()).map_err(|_| GatewayError::Internal)?;
    answer::write(session, header, Bytes::from(body)).await;
    Ok(())
}

/// The verified identity behind the request's CitrixAuth token, counted by outcome.
async fn verify(
    session: &Session,
    store: &Store,
    verifier: &Verifier,
) -> Result<Identity, GatewayError> {
    let headers = session
        .req_header()
        .headers
        .get_all("authorization")
        .into_iter()
        .map(|v| v.as_bytes());
    // The header checks have already refused a missing or malformed token.
    let token = citrix_auth::token_from_headers(headers).map_err(GatewayError::Unauthorized)?;
    let outcome = verifier.verify(token).await;
    let label = match &outcome {
        Ok(_) => "ok",
        Err(e) => e.label(),
    };
    metrics::token_verification(&store.name, label);
    outcome.map_err(GatewayError::Token)
}
