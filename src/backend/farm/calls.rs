//! The NFuse exchanges behind each operation, fanned out over a store's farms in parallel.
//!
//! A listing asks every farm at once and waits for the slowest, each farm bounded by its own
//! timeout; a farm that fails does not fail the listing, it only makes it partial. Disconnect
//! and logoff also go to every farm, and succeed only if every farm succeeded. A launch talks to
//! the one farm the session lives on.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::client::{FarmCallError, FarmClient};
use super::{FarmMember, LaunchClient};
use crate::config::Farm;
use crate::protocol::nfuse::{
    Address, AppSession, ClientId, Credentials, Request, Response, SessionName,
};

/// The merged answer of a listing.
#[derive(Debug, Default)]
pub struct Listing {
    /// Sessions found, by farm in configuration order, each farm's in its own order.
    pub sessions: Vec<(Arc<Farm>, AppSession)>,
    /// Farms that gave no usable answer.
    pub failed: Vec<Arc<Farm>>,
    /// Entries the farms listed without the fields that name a session.
    pub skipped: usize,
}

/// Who asks, shared by the tasks of one fan-out.
#[derive(Debug, Clone)]
pub struct Caller {
    pub store: Arc<str>,
    pub credentials: Credentials,
    pub client: ClientId,
}

/// A farm's answer, or `None` if its task died (a bug, counted as a failed farm).
type Answer = Option<Result<Response, FarmCallError>>;

/// Call every farm of `jobs` at once, each with its own argument; answers come back in the
/// order of `jobs`, so the merged list keeps the configuration's farm order.
async fn fan_out<A, F, Fut>(jobs: &[(FarmMember, A)], call: F) -> Vec<(Arc<Farm>, Answer)>
where
    A: Clone,
    F: Fn(FarmMember, A) -> Fut,
    Fut: std::future::Future<Output = Result<Response, FarmCallError>> + Send + 'static,
{
    // Tasks, not one joined future: farms are then served by every worker thread, and dropping
    // the set (the client went away) cancels them all.
    let mut set = JoinSet::new();
    for (i, (farm, arg)) in jobs.iter().enumerate() {
        // Boxed: the call's future is large (connector, exchange, parse: ~20 KB), and `spawn`
        // would otherwise move it by value through several frames (a fifth of a listing's
        // instructions were these copies).
        let fut = Box::pin(call(farm.clone(), arg.clone()));
        set.spawn(async move { (i, fut.await) });
    }
    let mut done: Vec<Answer> = jobs.iter().map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((i, value)) = joined {
            if let Some(slot) = done.get_mut(i) {
                *slot = Some(value);
            }
        }
    }
    jobs.iter()
        .zip(done)
        .map(|((f, _), v)| (f.farm.clone(), v))
        .collect()
}

/// `RequestReconnectSessionData` to each farm of `queries` (with whether active sessions may be
/// asked for there), merged.
pub async fn list_sessions(
    client: &Arc<FarmClient>,
    caller: &Caller,
    queries: &[(FarmMember, bool)],
) -> Listing {
    let answers = fan_out(queries, |f, active| {
        let client = client.clone();
        let caller = caller.clone();
        async move {
            let request = Request::ReconnectSessionData {
                credentials: &caller.credentials,
                client: &caller.client,
                active,
                disconnected: true,
            };
            client.call(&caller.store, &f, &request).await
        }
    })
    .await;
    let mut listing = Listing::default();
    for (farm, answer) in answers {
        match answer {
            Some(Ok(Response::Sessions(list))) => {
                listing.skipped += list.skipped;
                listing
                    .sessions
                    .extend(list.sessions.into_iter().map(|s| (farm.clone(), s)));
            }
            _ => listing.failed.push(farm),
        }
    }
    listing
}

/// `RequestDisconnectUserSessions` (or `RequestLogoffUserSessions`) to every farm; the farms that
/// did not confirm it.
pub async fn end_sessions(
    client: &Arc<FarmClient>,
    caller: &Caller,
    farms: &[FarmMember],
    logoff: bool,
) -> Vec<Arc<Farm>> {
    let jobs: Vec<(FarmMember, ())> = farms.iter().map(|f| (f.clone(), ())).collect();
    let answers = fan_out(&jobs, |f, ()| {
        let client = client.clone();
        let caller = caller.clone();
        async move {
            let request = if logoff {
                Request::LogoffUserSessions {
                    credentials: &caller.credentials,
                    client: &caller.client,
                }
            } else {
                Request::DisconnectUserSessions {
                    credentials: &caller.credentials,
                    client: &caller.client,
                }
            };
            client.call(&caller.store, &f, &request).await
        }
    })
    .await;
    answers
        .into_iter()
        .filter(|(_, a)| !matches!(a, Some(Ok(Response::Done))))
        .map(|(f, _)| f)
        .collect()
}

/// `RequestAddress` for `session`, then `RequestTicket` for the server it names.
pub async fn launch(
    client: &FarmClient,
    store: &str,
    credentials: &Credentials,
    farm: &FarmMember,
    session: &SessionName,
    who: &LaunchClient<'_>,
) -> Result<(Address, String), FarmCallError> {
    let request = Request::Address {
        credentials,
        client_name: who.client_name,
        device_id: who.device_id,
        client_address: who.client_address,
        session,
    };
    let address = match client.call(store, farm, &request).await? {
        Response::Address(a) => a,
        _ => return Err(unexpected()),
    };
    let tag = address.ticket_tag.clone().unwrap_or_default();
    let request = Request::Ticket {
        credentials,
        ticket_tag: &tag,
        time_to_live_seconds: farm.farm.ticket_ttl_seconds,
    };
    match client.call(store, farm, &request).await? {
        Response::Ticket(t) => Ok((address, t)),
        _ => Err(unexpected()),
    }
}

/// A well-formed answer of the wrong kind (cannot come from `parse_response`, kept total).
fn unexpected() -> FarmCallError {
    FarmCallError::Answer(crate::protocol::nfuse::ResponseError::Document(
        "answer of another request type",
    ))
}
