//! The Sessions Service of a farm-backed store, answered by the gateway itself: check the request,
//! verify the token, read the parameters, ask the farms over NFuse, and write the Store API
//! document (sessionState, sessionResults, launch) with exact framing.
//!
//! The gateway speaks for the user to brokers that trust it ("Trust XML requests"), so nothing
//! reaches a farm without an identity the gateway verified itself.

use std::sync::Arc;

use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;

use super::ctx::RequestCtx;
use super::error::GatewayError;
use super::sessions::{self, Params};
use crate::backend::farm::{self, Caller, FarmCallError, FarmClient, FarmRef, LaunchClient};
use crate::config::{ActiveSessionPolicy, Farms, Store};
use crate::identity::Identity;
use crate::metrics::{ActiveQueryOutcome, Metrics, SafeguardAction};
use crate::protocol::endpoints::{self, Endpoint};
use crate::protocol::launch_data::{self, LaunchResult};
use crate::protocol::nfuse::{ClientId, Credentials, ErrorId, SessionName};
use crate::protocol::session_id::SessionRef;
use crate::protocol::session_params::{ParamsError, SessionParams};
use crate::protocol::session_results::{self, ResultStatus};
use crate::protocol::session_state::{self, Enumeration, Session as ListedSession, SessionState};
use crate::protocol::{citrix_auth, ica, media};
use crate::routing::{Operation, StoreRoute};

use super::answer::launch_url;

/// Seconds a client is told to wait before retrying a launch the farm could not serve yet.
const RETRY_AFTER_SECONDS: u32 = 30;

/// Serve a Sessions Service request of a farm-backed store. Errors are answered by the caller.
pub async fn serve(
    client: &Arc<FarmClient>,
    session: &mut Session,
    route: &StoreRoute,
    farms: &Farms,
    operation: &Operation,
    ctx: &mut RequestCtx,
) -> Result<(), GatewayError> {
    let store = &route.store;
    sessions::check(session, store, operation)?;
    let identity = verify(session, store, farms).await?;
    let params = sessions::read_params(session, store, operation).await?;
    let targets: Vec<FarmRef> = farms
        .farms
        .iter()
        .zip(&route.pools)
        .map(|(farm, pool)| FarmRef {
            farm: farm.clone(),
            pool: pool.clone(),
        })
        .collect();
    let (media_type, body) = match (operation, params) {
        (Operation::ListSessions, Params::Session(p)) => {
            let body = list(client, store, farms, &targets, &identity, &p, ctx).await?;
            (media::SESSION_STATE, body)
        }
        (Operation::DisconnectSessions | Operation::LogOffSessions, Params::Session(p)) => {
            let logoff = operation == &Operation::LogOffSessions;
            let caller = caller(store, &identity, &p);
            let failed = farm::end_sessions(client, &caller, &targets, logoff).await;
            let status = if failed.is_empty() {
                ResultStatus::Success
            } else {
                ResultStatus::Failure
            };
            (media::SESSION_RESULTS, session_results::write(status))
        }
        (Operation::LaunchIca { session_id }, Params::Launch(p)) => {
            let who = LaunchClient {
                client_name: p
                    .client_name()
                    .or(p.device_id())
                    .ok_or(GatewayError::Params(ParamsError::Missing("clientName")))?,
                device_id: p.device_id(),
                client_address: p.get("clientAddress"),
            };
            let body = launch(client, store, farms, &targets, &identity, session_id, &who).await?;
            (media::LAUNCH_DATA, body)
        }
        _ => return Err(GatewayError::NoRoute),
    };
    respond(session, media_type, body, false).await
}

/// `GET {store}/endpoints/v1` of a farm-backed store: the gateway's own endpoints document,
/// naming the three Sessions Service endpoints (scripts such as Citrix's PowerShell module find
/// the session URLs there). Like StoreFront's, it needs no token.
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
    let sessions = format!("{}/sessions/v1", store.public_url);
    let endpoint = |id: &str, op: &str, capability: &str| Endpoint {
        id: id.to_string(),
        url: format!("{sessions}/{op}"),
        capabilities: vec![capability.to_string()],
    };
    let body = endpoints::write(&[
        endpoint("ListSessions", "available", "listSessions"),
        endpoint("DisconnectSessions", "disconnect", "disconnectSessions"),
        endpoint("LogOffSessions", "logoff", "logOffSessions"),
    ]);
    let head_only = session.req_header().method == http::Method::HEAD;
    respond(session, media::ENDPOINTS, body, head_only).await
}

/// Write a 200 answer with exact framing; a client that went away is not an error.
async fn respond(
    session: &mut Session,
    media_type: &str,
    body: Vec<u8>,
    head_only: bool,
) -> Result<(), GatewayError> {
    let mut header =
        ResponseHeader::build(200, Some(4)).map_err(|_| GatewayError::BadUpstreamAnswer)?;
    for (name, value) in [
        ("content-type", media_type.to_string()),
        ("content-length", body.len().to_string()),
        ("cache-control", "no-cache".to_string()),
    ] {
        header
            .insert_header(name, value)
            .map_err(|_| GatewayError::BadUpstreamAnswer)?;
    }
    let written = async {
        session
            .write_response_header(Box::new(header), head_only)
            .await?;
        if !head_only {
            session
                .write_response_body(Some(Bytes::from(body)), true)
                .await?;
        }
        Ok::<_, Box<pingora::Error>>(())
    };
    if let Err(e) = written.await {
        tracing::debug!(error = %e, "client closed before the answer was written");
    }
    Ok(())
}

/// The verified identity behind the request's CitrixAuth token.
async fn verify(session: &Session, store: &Store, farms: &Farms) -> Result<Identity, GatewayError> {
    let headers = session
        .req_header()
        .headers
        .get_all("authorization")
        .into_iter()
        .map(|v| v.as_bytes());
    // The header checks have already refused a missing or malformed token.
    let token = citrix_auth::token_from_headers(headers).map_err(GatewayError::Unauthorized)?;
    let outcome = farms.identity.verify(token).await;
    let label = match &outcome {
        Ok(_) => "ok",
        Err(e) => e.label(),
    };
    Metrics::get()
        .token_verifications
        .with_label_values(&[store.name.as_str(), label])
        .inc();
    outcome.map_err(GatewayError::Token)
}

fn credentials(identity: &Identity) -> Credentials {
    Credentials {
        sam: identity.sam.clone(),
        sids: identity.sids.clone(),
    }
}

/// Who asks: the device id identifies the client when given (it "overrides the clientName").
fn caller(store: &Store, identity: &Identity, params: &SessionParams) -> Caller {
    let client = match &params.device_id {
        Some(d) => ClientId::Device(d.clone()),
        None => ClientId::Name(params.client_name.clone()),
    };
    Caller {
        store: Arc::from(store.name.as_str()),
        credentials: credentials(identity),
        client,
    }
}

/// Which farms a listing asks, and whether each may be asked for active sessions: the
/// safeguard. Every decision taken on a request for active sessions is counted by farm.
fn plan(
    store: &Store,
    targets: &[FarmRef],
    params: &SessionParams,
    ctx: &mut RequestCtx,
) -> Result<Vec<(FarmRef, bool)>, GatewayError> {
    let wants_active = params.include_active_sessions == Some(true);
    let apps_only = params.app_sessions_only == Some(true);
    let mut queries = Vec::new();
    let mut actions = Vec::new();
    for target in targets {
        let farm = &target.farm;
        if apps_only && !farm.serves_app_sessions_only() {
            actions.push((farm.name.as_str(), SafeguardAction::Skipped));
            continue;
        }
        let (active, action) = match farm.active_sessions {
            ActiveSessionPolicy::Allow => (true, SafeguardAction::Allowed),
            ActiveSessionPolicy::Strip => (false, SafeguardAction::Stripped),
            ActiveSessionPolicy::Reject => (false, SafeguardAction::Refused),
        };
        actions.push((farm.name.as_str(), action));
        queries.push((target.clone(), wants_active && active));
    }
    if !wants_active {
        return Ok(queries);
    }
    let counter = &Metrics::get().farm_active_session_queries;
    for (farm, action) in &actions {
        counter
            .with_label_values(&[store.name.as_str(), farm, action.as_str()])
            .inc();
    }
    let has = |a: SafeguardAction| actions.iter().any(|(_, x)| *x == a);
    let outcome = if has(SafeguardAction::Refused) {
        ActiveQueryOutcome::Refused
    } else if has(SafeguardAction::Stripped) || !has(SafeguardAction::Allowed) {
        ActiveQueryOutcome::Stripped
    } else {
        ActiveQueryOutcome::Allowed
    };
    ctx.active_query = Some(outcome);
    if outcome == ActiveQueryOutcome::Refused {
        return Err(GatewayError::ActiveSessionsRefused);
    }
    Ok(queries)
}

/// `available`: every farm asked at once, answers merged into one sessionState.
async fn list(
    client: &Arc<FarmClient>,
    store: &Store,
    farms: &Farms,
    targets: &[FarmRef],
    identity: &Identity,
    params: &SessionParams,
    ctx: &mut RequestCtx,
) -> Result<Vec<u8>, GatewayError> {
    let queries = plan(store, targets, params, ctx)?;
    let caller = caller(store, identity, params);
    let listing = farm::list_sessions(client, &caller, &queries).await;
    if !queries.is_empty() && listing.failed.len() == queries.len() {
        return Err(GatewayError::FarmsUnavailable);
    }
    if listing.skipped > 0 {
        // A broker listed sessions without the fields that name one: they cannot be offered.
        tracing::warn!(store = %store.name, entries = listing.skipped, "farm listed sessions without InName, HostId or SessionId");
    }
    let mut sessions = Vec::with_capacity(listing.sessions.len());
    for (farm, found) in &listing.sessions {
        let reference = SessionRef {
            farm: farm.name.clone(),
            in_name: found.session.in_name.clone(),
            host_id_type: found.session.host_id_type.clone(),
            host_id: found.session.host_id.clone(),
            session_id: found.session.session_id.clone(),
        };
        let id = match farms.session_ids.seal(&identity.sam, &reference) {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(store = %store.name, farm = %farm.name, error = %e, "session left out of the list");
                continue;
            }
        };
        sessions.push(ListedSession {
            launch_url: launch_url(store, &id),
            id,
            server_type: found
                .server_type
                .clone()
                .unwrap_or_else(|| "win32".to_string()),
            initial_app: Some(found.session.in_name.clone()),
            initial_app_resource_aggregated: Some(false),
            // StoreFront names a farm's resource `{farm}.{application}`.
            initial_app_resource_id: Some(format!("{}.{}", farm.name, found.session.in_name)),
            publisher_name: Some(farm.name.clone()),
        });
    }
    let enumeration = if listing.failed.is_empty() {
        Enumeration::Full
    } else {
        Metrics::get()
            .partial_enumerations
            .with_label_values(&[store.name.as_str()])
            .inc();
        Enumeration::Partial
    };
    Ok(session_state::write(&SessionState {
        enumeration,
        sessions,
    }))
}

/// `.../{id}/launch/ica`: open the id, ask the session's farm for its address and a ticket, and
/// hand back the ICA file.
async fn launch(
    client: &FarmClient,
    store: &Store,
    farms: &Farms,
    targets: &[FarmRef],
    identity: &Identity,
    session_id: &str,
    who: &LaunchClient<'_>,
) -> Result<Vec<u8>, GatewayError> {
    let reference = farms
        .session_ids
        .open(&identity.sam, session_id)
        .map_err(|_| GatewayError::SessionNotFound)?;
    // A farm since removed from the configuration no longer has this session.
    let target = targets
        .iter()
        .find(|t| t.farm.name == reference.farm)
        .ok_or(GatewayError::SessionNotFound)?;
    let name = SessionName {
        in_name: reference.in_name,
        host_id: reference.host_id,
        host_id_type: reference.host_id_type,
        session_id: reference.session_id,
    };
    let credentials = credentials(identity);
    let result = match farm::launch(client, &store.name, &credentials, target, &name, who).await {
        Ok((address, ticket)) => {
            let file = ica::render(&ica::IcaLaunch {
                    title: &name.in_name,
                    address: &address.server_address,
                    ticket: &ticket,
                    ssl_relay_address: address.ssl_relay_address.as_deref(),
                    cgp_address: address.cgp_address.as_deref(),
                    client_name: Some(who.client_name),
                })
                .map_err(|e| {
                    tracing::warn!(store = %store.name, farm = %target.farm.name, error = %e, "farm address unusable in an ICA file");
                    GatewayError::BadUpstreamAnswer
                })?;
            LaunchResult::Ica {
                ica: file,
                logon_ticket: None,
            }
        }
        Err(FarmCallError::Farm(e)) => launch_error(e.id)?,
        Err(e) => return Err(GatewayError::Farm(e)),
    };
    Ok(launch_data::write(&result))
}

/// A farm's `ErrorId` at launch: a launch `error` or `retry` result the client can show, or a
/// 502 when the farm or the gateway is misconfigured (nothing the user can act on).
fn launch_error(id: ErrorId) -> Result<LaunchResult, GatewayError> {
    let error = |id: &str, text: &str| LaunchResult::Error {
        id: id.to_string(),
        text: Some(text.to_string()),
    };
    Ok(match id {
        ErrorId::NoServer | ErrorId::NoAvailableWorkstation => error(
            "ResourceUnavailable",
            "The session is no longer available on its farm.",
        ),
        ErrorId::NotLicensed => error("NotLicensed", "No license is available."),
        ErrorId::MfserverOverloaded | ErrorId::RetryRequired | ErrorId::ServiceUnavailable => {
            LaunchResult::Retry {
                url: None,
                after_seconds: RETRY_AFTER_SECONDS,
                reason: "unknown".to_string(),
            }
        }
        ErrorId::AccountLockedOut
        | ErrorId::AccountDisabled
        | ErrorId::ExpiredCredentials
        | ErrorId::MustChangeCredentials
        | ErrorId::InvalidLogonHours => error(
            "GeneralAppLaunchError",
            "The farm refused the account (locked, disabled, expired or outside logon hours).",
        ),
        ErrorId::NotTrusted
        | ErrorId::FailedCredentials
        | ErrorId::VersionMismatch
        | ErrorId::TicketingDisabled => return Err(GatewayError::FarmRefused(id)),
        _ => error(
            "GeneralAppLaunchError",
            "The farm could not launch the session.",
        ),
    })
}
