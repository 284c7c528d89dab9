//! The legacy Citrix XML service ("XML broker", NFuse protocol) the gateway talks to for
//! farms without StoreFront: pure message writing and reading, no I/O.
//!
//! Requests are `POST /scripts/wpnbr.dll` with a `text/xml` body (citrix-protocols.md §1).
//! The gateway only ever sends identity-only credentials (SAM name plus SIDs, which needs "Trust
//! XML requests" on the farm), never a password; it asks for the user's sessions, disconnects or
//! logs them off, and turns a session into an ICA launch with `RequestAddress` + `RequestTicket`.
//!
//! The XML relay reads what clients send instead: [`inbound`] classifies a client's request,
//! [`session_types`] is the safeguard's rewrite of it, [`refusal`] writes the relay's own
//! `ErrorId` answers and [`answer`] reads a broker's `ErrorId`; [`request_type`] names every type.

pub mod answer;
mod error_id;
pub mod inbound;
pub mod refusal;
mod request;
pub mod request_type;
mod response;
pub mod session_types;

pub use answer::error_id_of;
pub use error_id::ErrorId;
pub use inbound::{parse_inbound, CredentialForm, Inbound, InboundError};
pub use refusal::refusal;
pub use request::{Request, RequestError, RequestKind};
pub use request_type::RequestType;
pub use response::{
    parse_response, parse_response_each, Address, AppSession, FarmError, Response, ResponseError,
    SessionList, MAX_SESSIONS, MAX_TEXT_CHARS,
};
pub use session_types::only_disconnected;

/// The XML service's path; brokers match it without regard to case.
pub const PATH: &str = "/scripts/wpnbr.dll";
pub const CONTENT_TYPE: &str = "text/xml";
/// The protocol version the gateway sends (Web Interface's, XenApp 5.0's dialect).
pub const VERSION: &str = "5.0";
/// Brokers refuse larger requests unless `MaxRequestSize` is raised (CTX943036).
pub const MAX_REQUEST_BYTES: usize = 4096;

/// Identity-only credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `DOMAIN\user`.
    pub sam: String,
    /// The user's SID and group SIDs, one `<ID type="SID">` each.
    pub sids: Vec<String>,
}

/// How the client is identified for workspace control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientId {
    Name(String),
    Device(String),
}

/// What identifies a session farm-wide: `SessionId` alone is only unique per server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionName {
    pub in_name: String,
    pub host_id: String,
    /// `HostId/@type`, e.g. `ima-host-id`.
    pub host_id_type: String,
    pub session_id: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod inbound_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests;
