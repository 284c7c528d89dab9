//! The Sessions Service of a farm-backed store, answered from the farms: listings merged into one
//! sessionState with signed session ids, disconnect and logoff confirmed by every farm, launches
//! turned into ICA files, and farm `ErrorId`s turned into answers a client can act on.
//!
//! The gateway speaks for the user to brokers that trust it ("Trust XML requests"), so every
//! function here takes credentials the caller has already verified.

use std::sync::Arc;

use super::calls::{self, Caller};
use super::client::{FarmCallError, FarmClient};
use super::{safeguard, Farms};
use crate::config::Store;
use crate::metrics::{self, ActiveQueryOutcome};
use crate::protocol::endpoints::{self, Endpoint};
use crate::protocol::ica;
use crate::protocol::launch_data::{self, LaunchResult};
use crate::protocol::launch_params::LaunchParams;
use crate::protocol::nfuse::{ClientId, Credentials, ErrorId, SessionName};
use crate::protocol::session_id::SessionRef;
use crate::protocol::session_params::{ParamsError, SessionParams};
use crate::protocol::session_results::{self, ResultStatus};
use crate::protocol::session_state::{self, Enumeration, Session as ListedSession, SessionState};

/// Seconds a client is told to wait before retrying a launch the farm could not serve yet.
const RETRY_AFTER_SECONDS: u32 = 30;

/// Why the farms gave the client no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FarmError {
    #[error("this store does not allow listing active sessions (includeActiveSessions=true)")]
    ActiveSessionsRefused,
    #[error("no session has this id")]
    SessionNotFound,
    #[error("no farm answered")]
    Unavailable,
    #[error("{0}")]
    Call(FarmCallError),
    #[error("the farm refused the gateway's request ({}); check XML trust and the farm's version", .0.as_str())]
    Refused(ErrorId),
    /// A farm answered with something the gateway cannot hand to a client.
    #[error("the farm sent an answer the gateway could not use")]
    BadAnswer,
}

/// What a launch needs from the client's launch parameters.
#[derive(Debug, Clone)]
pub struct LaunchClient<'a> {
    pub client_name: &'a str,
    pub device_id: Option<&'a str>,
    pub client_address: Option<&'a str>,
}

impl<'a> LaunchClient<'a> {
    /// The client of a launch: its name, or its device id when it gives no name.
    pub fn from_params(params: &'a LaunchParams) -> Result<LaunchClient<'a>, ParamsError> {
        Ok(LaunchClient {
            client_name: params
                .client_name()
                .or(params.device_id())
                .ok_or(ParamsError::Missing("clientName"))?,
            device_id: params.device_id(),
            client_address: params.get("clientAddress"),
        })
    }
}

/// A sessionState document and what the safeguard did.
pub struct Listed {
    pub body: Vec<u8>,
    pub active_query: Option<ActiveQueryOutcome>,
}

/// Who asks: the device id identifies the client when given (it "overrides the clientName").
fn caller(store: &Store, credentials: &Credentials, params: &SessionParams) -> Caller {
    let client = match &params.device_id {
        Some(d) => ClientId::Device(d.clone()),
        None => ClientId::Name(params.client_name.clone()),
    };
    Caller {
        store: Arc::from(store.name.as_str()),
        credentials: credentials.clone(),
        client,
    }
}

/// `available`: every farm the safeguard allows asked at once, answers merged into one
/// sessionState; `partial` when a farm failed, an error only when every farm failed.
pub async fn list(
    client: &Arc<FarmClient>,
    store: &Store,
    farms: &Farms,
    credentials: &Credentials,
    params: &SessionParams,
) -> Result<Listed, FarmError> {
    let plan = safeguard::plan(&store.name, &farms.members, params);
    if plan.refused() {
        return Err(FarmError::ActiveSessionsRefused);
    }
    let caller = caller(store, credentials, params);
    let listing = calls::list_sessions(client, &caller, &plan.queries).await;
    if !plan.queries.is_empty() && listing.failed.len() == plan.queries.len() {
        return Err(FarmError::Unavailable);
    }
    if listing.skipped > 0 {
        // A broker listed sessions without the fields that name one: they cannot be offered.
        tracing::warn!(store = %store.name, entries = listing.skipped, "farm listed sessions without InName, HostId or SessionId");
    }
    let sessions = listing
        .sessions
        .iter()
        .filter_map(|(farm, found)| listed_session(store, farms, &credentials.sam, farm, found))
        .collect();
    let enumeration = if listing.failed.is_empty() {
        Enumeration::Full
    } else {
        metrics::partial_enumeration(&store.name);
        Enumeration::Partial
    };
    Ok(Listed {
        body: session_state::write(&SessionState {
            enumeration,
            sessions,
        }),
        active_query: plan.outcome,
    })
}

/// One session of a farm's answer as the client sees it, under an id sealed to `user`.
fn listed_session(
    store: &Store,
    farms: &Farms,
    user: &str,
    farm: &crate::config::Farm,
    found: &crate::protocol::nfuse::AppSession,
) -> Option<ListedSession> {
    let reference = SessionRef {
        farm: farm.name.clone(),
        in_name: found.session.in_name.clone(),
        host_id_type: found.session.host_id_type.clone(),
        host_id: found.session.host_id.clone(),
        session_id: found.session.session_id.clone(),
    };
    let id = match farms.session_ids.seal(user, &reference) {
        Ok(id) => id,
        Err(e) => {
            tracing::warn!(store = %store.name, farm = %farm.name, error = %e, "session left out of the list");
            return None;
        }
    };
    Some(ListedSession {
        launch_url: store.launch_url(&id),
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
    })
}

/// `disconnect` or `logoff` (`logoff` true) on every farm: a sessionResults document, `success`
/// only when every farm confirmed.
pub async fn end(
    client: &Arc<FarmClient>,
    store: &Store,
    farms: &Farms,
    credentials: &Credentials,
    params: &SessionParams,
    logoff: bool,
) -> Vec<u8> {
    let caller = caller(store, credentials, params);
    let failed = calls::end_sessions(client, &caller, &farms.members, logoff).await;
    let status = if failed.is_empty() {
        ResultStatus::Success
    } else {
        ResultStatus::Failure
    };
    session_results::write(status)
}

/// `.../{id}/launch/ica`: open the id, ask the session's farm for its address and a ticket, and
/// hand back launch data with the ICA file (or the farm's refusal as a launch result).
pub async fn launch(
    client: &FarmClient,
    store: &Store,
    farms: &Farms,
    credentials: &Credentials,
    session_id: &str,
    who: &LaunchClient<'_>,
) -> Result<Vec<u8>, FarmError> {
    let reference = farms
        .session_ids
        .open(&credentials.sam, session_id)
        .map_err(|_| FarmError::SessionNotFound)?;
    // A farm since removed from the configuration no longer has this session.
    let member = farms
        .members
        .iter()
        .find(|m| m.farm.name == reference.farm)
        .ok_or(FarmError::SessionNotFound)?;
    let name = SessionName {
        in_name: reference.in_name,
        host_id: reference.host_id,
        host_id_type: reference.host_id_type,
        session_id: reference.session_id,
    };
    let result = match calls::launch(client, &store.name, credentials, member, &name, who).await {
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
                tracing::warn!(store = %store.name, farm = %member.farm.name, error = %e, "farm address unusable in an ICA file");
                FarmError::BadAnswer
            })?;
            LaunchResult::Ica {
                ica: file,
                logon_ticket: None,
            }
        }
        Err(FarmCallError::Farm(e)) => launch_error(e.id)?,
        Err(e) => return Err(FarmError::Call(e)),
    };
    Ok(launch_data::write(&result))
}

/// A farm's `ErrorId` at launch: a launch `error` or `retry` result the client can show, or a
/// refusal (502) when the farm or the gateway is misconfigured (nothing the user can act on).
fn launch_error(id: ErrorId) -> Result<LaunchResult, FarmError> {
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
        | ErrorId::TicketingDisabled => return Err(FarmError::Refused(id)),
        _ => error(
            "GeneralAppLaunchError",
            "The farm could not launch the session.",
        ),
    })
}

/// The endpoints document of a farm-backed store, naming the three Sessions Service endpoints
/// the gateway answers (scripts such as Citrix's PowerShell module find the session URLs there).
pub fn endpoints_document(store: &Store) -> Vec<u8> {
    let sessions = format!("{}/sessions/v1", store.public_url);
    let endpoint = |id: &str, op: &str, capability: &str| Endpoint {
        id: id.to_string(),
        url: format!("{sessions}/{op}"),
        capabilities: vec![capability.to_string()],
    };
    endpoints::write(&[
        endpoint("ListSessions", "available", "listSessions"),
        endpoint("DisconnectSessions", "disconnect", "disconnectSessions"),
        endpoint("LogOffSessions", "logoff", "logOffSessions"),
    ])
}
