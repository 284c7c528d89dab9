//! What a relay does with a request it could read, by where it comes from (pure: no I/O).
//!
//! The allow-list, in order:
//! 1. from a trusted network (StoreFront's servers) everything passes;
//! 2. from anywhere else only a logon passes: a request carrying a password. Refused with
//!    `not-trusted`: identity-only `<ID>` credentials (a trusting farm takes them without a
//!    password), reconnaissance (`RequestServerData`, `RequestServerFarmData`,
//!    `RequestCapabilities`, `RequestProtocolInfo`), `RequestAppData` asking for access lists,
//!    and anything without a password or of a type the relay does not know.
//!
//! Then the active-session safeguard: a `RequestReconnectSessionData` naming active sessions is
//! relayed as is, rewritten to disconnected sessions only, or refused, by the farm's policy
//! (pre-XD7 farms strip by default, since listing active sessions there disconnects them).

use crate::config::{ActiveSessionPolicy, Farm};
use crate::metrics::SafeguardAction;
use crate::protocol::nfuse::{CredentialForm, Inbound, RequestType};

/// Why a request was refused by the allow-list (logged, never sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Untrusted {
    /// `<ID>` credentials.
    Identity,
    /// A question about the farm, or about every application's ACL.
    Reconnaissance,
    /// No password: nothing an outsider may ask.
    NoPassword,
}

impl Untrusted {
    pub fn as_str(self) -> &'static str {
        match self {
            Untrusted::Identity => "identity credentials",
            Untrusted::Reconnaissance => "reconnaissance",
            Untrusted::NoPassword => "no password",
        }
    }
}

/// What to do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Answer `not-trusted` without asking the farm.
    Refuse(Untrusted),
    /// The safeguard's policy refuses listing active sessions (answered `not-trusted`).
    RefuseActive,
    /// Send it to the farm.
    Relay(Relay),
}

/// How a request is relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relay {
    /// Send the safeguard's rewrite (disconnected sessions only) instead of the body.
    pub only_disconnected: bool,
    /// May go to a second broker after the first may have acted on it.
    pub read_only: bool,
    /// What the safeguard did, when the request named active sessions.
    pub safeguard: Option<SafeguardAction>,
}

/// Decide for `request` from a trusted network or not, to `farm`.
pub fn decide(request: &Inbound, trusted: bool, farm: &Farm) -> Decision {
    if !trusted {
        if let Some(why) = untrusted(request) {
            return Decision::Refuse(why);
        }
    }
    let lists_active =
        request.request == RequestType::ReconnectSessionData && request.active_sessions;
    if !lists_active {
        return Decision::Relay(Relay {
            only_disconnected: false,
            read_only: request.request.is_read_only()
                || request.request == RequestType::ReconnectSessionData,
            safeguard: None,
        });
    }
    match farm.active_sessions {
        ActiveSessionPolicy::Reject => Decision::RefuseActive,
        ActiveSessionPolicy::Strip => Decision::Relay(Relay {
            only_disconnected: true,
            read_only: true,
            safeguard: Some(SafeguardAction::Stripped),
        }),
        ActiveSessionPolicy::Allow => Decision::Relay(Relay {
            only_disconnected: false,
            // Before XD7 the listing disconnects sessions: never sent twice.
            read_only: !farm.pre_xd7,
            safeguard: Some(SafeguardAction::Allowed),
        }),
    }
}

/// The allow-list's reason to refuse a request from an untrusted source, if any.
fn untrusted(request: &Inbound) -> Option<Untrusted> {
    if request.credentials == CredentialForm::Identity {
        return Some(Untrusted::Identity);
    }
    if request.request.is_reconnaissance()
        || (request.request == RequestType::AppData && request.access_list)
    {
        return Some(Untrusted::Reconnaissance);
    }
    match (&request.credentials, request.request) {
        (_, RequestType::Other) => Some(Untrusted::NoPassword),
        (CredentialForm::Password { .. }, _) => None,
        (_, RequestType::AppData) => Some(Untrusted::Reconnaissance),
        _ => Some(Untrusted::NoPassword),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests;
