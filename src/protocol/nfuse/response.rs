//! Reading what an XML broker answers (citrix-protocols.md §1.4–§1.7).
//!
//! Brokers differ (dialects 1.1 to 5.8, ISO-8859-1 declarations, single quotes, elements in any
//! order), so the reader is tolerant of everything but markup that could make it resolve
//! something: the document goes through [`Cursor`] with only the literal DOCTYPE allowed (an
//! answer in the scanner's subset is read first by [`ScanCursor`], see [`parse_response`]).
//! Unknown elements are skipped; every kept text is trimmed and bounded, and so is the number of
//! sessions, so the memory a reply can make us hold is proportional to what we keep.

use super::error_id::ErrorId;
use super::request::RequestKind;
use super::SessionName;
use crate::protocol::xml::{self, Cursor, Element, Nodes, ScanCursor, XmlError};

/// Longest text value kept (names, addresses, ids, tickets); longer is a [`ResponseError::Document`].
pub const MAX_TEXT_CHARS: usize = 256;
/// Most sessions read from one `ResponseReconnectSessionData`.
pub const MAX_SESSIONS: usize = 10_000;
/// Longest `ErrorId` / `MPSError` / `BrowserError` text kept; longer is cut.
const MAX_ERROR_CHARS: usize = 64;

/// A broker's answer, by request kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// `ResponseReconnectSessionData`.
    Sessions(SessionList),
    /// `ResponseDisconnectUserSessions` / `ResponseLogoffUserSessions` (which never say whether
    /// anything matched).
    Done,
    /// `ResponseAddress`.
    Address(Address),
    /// `ResponseTicket/Ticket`.
    Ticket(String),
    /// `ResponseServerFarmData/ServerFarmData/ServerFarmName`.
    FarmName(String),
}

/// The user's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionList {
    pub sessions: Vec<AppSession>,
    /// `AppData` entries lacking `InName`, `HostId` or `SessionId`: they cannot be addressed.
    pub skipped: usize,
}

/// One `AppData` of a session list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSession {
    pub session: SessionName,
    pub server_type: Option<String>,
    pub client_type: Option<String>,
}

/// `ResponseAddress`: where to connect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    pub server_address: String,
    /// `ServerAddress/@addresstype` (`dot-port`, `dns-port`, ...).
    pub address_type: Option<String>,
    pub server_type: Option<String>,
    pub connection_type: Option<String>,
    pub ticket_tag: Option<String>,
    pub ssl_relay_address: Option<String>,
    pub cgp_address: Option<String>,
    /// `<DisconnectedSession/>`: the address is of a disconnected session (reconnect form).
    pub disconnected_session: bool,
}

/// An `<ErrorId>` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FarmError {
    pub id: ErrorId,
    /// The `ErrorId` text as sent (trimmed), at most 64 characters.
    pub raw: String,
    /// `MPSError` or `BrowserError` text, at most 64 characters.
    pub detail: Option<String>,
}

/// Why an answer is not usable.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ResponseError {
    /// Unreadable, or markup refused on principle.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// Readable XML of the wrong shape.
    #[error("unexpected broker answer: {0}")]
    Document(&'static str),
    /// The broker answered with an `<ErrorId>`.
    #[error("the broker answered with error {}", .0.id.as_str())]
    Farm(FarmError),
}

/// Read the answer to a request of `kind`.
///
/// The answer is read by the scanner's [`ScanCursor`] first (a listing is read once per farm);
/// an answer outside its subset, and every answer it would not take, a broker's own error
/// included, is read again by the [`Cursor`], which decides.
pub fn parse_response(body: &[u8], kind: RequestKind) -> Result<Response, ResponseError> {
    let text = xml::decode_legacy(body)?;
    if let Some(Ok(response)) = by_scanner(&text, kind) {
        return Ok(response);
    }
    by_cursor(&text, kind)
}

/// [`parse_response`]'s two readers each alone: the scanner's answer (`None` when the document
/// lies outside its subset) and the `Cursor`'s; for the tests and the differential fuzz property.
#[allow(clippy::type_complexity)]
pub fn parse_response_each(
    body: &[u8],
    kind: RequestKind,
) -> (
    Option<Result<Response, ResponseError>>,
    Result<Response, ResponseError>,
) {
    match xml::decode_legacy(body) {
        Ok(text) => (by_scanner(&text, kind), by_cursor(&text, kind)),
        Err(e) => (None, Err(e.into())),
    }
}

fn by_scanner(text: &str, kind: RequestKind) -> Option<Result<Response, ResponseError>> {
    ScanCursor::from_text(text).map(|fast| read(&mut fast.allow_doctype(), kind))
}

fn by_cursor(text: &str, kind: RequestKind) -> Result<Response, ResponseError> {
    read(&mut Cursor::from_text(text).allow_doctype(), kind)
}

fn read<'i>(cur: &mut impl Nodes<'i>, kind: RequestKind) -> Result<Response, ResponseError> {
    let root = cur.root()?;
    if !is(&root, "NFuseProtocol") {
        return Err(ResponseError::Document(
            "the root element is not NFuseProtocol",
        ));
    }
    let mut response = None;
    if !root.empty {
        xml::walk_children::<ResponseError, _>(cur, |cur, el| {
            if !is(el, kind.response_element()) {
                return Ok(false);
            }
            if response.is_some() {
                return Err(ResponseError::Document("more than one response element"));
            }
            response = Some(read_response(cur, el, kind)?);
            Ok(true)
        })?;
    }
    cur.finish()?;
    response.ok_or(ResponseError::Document(
        "the expected response element is missing",
    ))?
}

fn is(el: &Element<'_>, local: &str) -> bool {
    // NFuse has no namespace: an element in any namespace is another document's.
    !el.namespaced && el.local() == local
}

/// After a start tag: its trimmed text, bounded by [`MAX_TEXT_CHARS`].
fn text<'i>(cur: &mut impl Nodes<'i>, what: &'static str) -> Result<String, ResponseError> {
    let raw = cur.leaf()?.ok_or(ResponseError::Document(what))?;
    bounded(raw.trim(), what)
}

fn bounded(s: &str, what: &'static str) -> Result<String, ResponseError> {
    if s.chars().count() > MAX_TEXT_CHARS {
        return Err(ResponseError::Document(what));
    }
    Ok(s.to_owned())
}

/// The trimmed text, cut to [`MAX_ERROR_CHARS`]: error texts are only reported, never used.
fn error_text<'i>(cur: &mut impl Nodes<'i>) -> Result<String, ResponseError> {
    let raw = cur.leaf()?.unwrap_or_default();
    Ok(raw.trim().chars().take(MAX_ERROR_CHARS).collect())
}

/// Text that is not an answer: empty is the same as absent.
fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// What a `Response*` element holds; which fields are filled depends on the kind.
#[derive(Default)]
struct Fields {
    error_id: Option<String>,
    detail: Option<String>,
    sessions: SessionList,
    address: Address,
    has_server_address: bool,
    ticket: Option<String>,
    farm_name: Option<String>,
}

/// After the start tag of the response element.
fn read_response<'i>(
    cur: &mut impl Nodes<'i>,
    el: &Element<'_>,
    kind: RequestKind,
) -> Result<Result<Response, ResponseError>, ResponseError> {
    let mut f = Fields::default();
    if !el.empty {
        xml::walk_children::<ResponseError, _>(cur, |cur, child| {
            read_field(cur, child, kind, &mut f)
        })?;
    }
    // An error answer need not hold anything else; check it before any required field.
    if let Some(raw) = f.error_id {
        return Ok(Err(ResponseError::Farm(FarmError {
            id: ErrorId::parse(&raw),
            raw,
            detail: f.detail,
        })));
    }
    Ok(match kind {
        RequestKind::ReconnectSessionData => Ok(Response::Sessions(f.sessions)),
        RequestKind::DisconnectUserSessions | RequestKind::LogoffUserSessions => Ok(Response::Done),
        RequestKind::Address if f.has_server_address => Ok(Response::Address(f.address)),
        RequestKind::Address => Err(ResponseError::Document("ServerAddress is missing")),
        RequestKind::Ticket => f
            .ticket
            .map(Response::Ticket)
            .ok_or(ResponseError::Document("Ticket is missing")),
        RequestKind::ServerFarmData => f
            .farm_name
            .map(Response::FarmName)
            .ok_or(ResponseError::Document("ServerFarmName is missing")),
    })
}

/// One child of the response element.
fn read_field<'i>(
    cur: &mut impl Nodes<'i>,
    el: &Element<'_>,
    kind: RequestKind,
    f: &mut Fields,
) -> Result<bool, ResponseError> {
    if el.ns.is_some() {
        return Ok(false);
    }
    match (kind, el.local()) {
        (_, "ErrorId") => f.error_id = Some(error_text(cur)?),
        (_, "MPSError" | "BrowserError") => f.detail = non_empty(error_text(cur)?),
        (RequestKind::ReconnectSessionData, "AppDataSet") => {
            let list = &mut f.sessions;
            xml::walk_children::<ResponseError, _>(cur, |cur, app| {
                if !is(app, "AppData") {
                    return Ok(false);
                }
                match read_app_data(cur)? {
                    Some(_) if list.sessions.len() >= MAX_SESSIONS => {
                        return Err(ResponseError::Document("too many sessions"));
                    }
                    Some(s) => list.sessions.push(s),
                    None => list.skipped += 1,
                }
                Ok(true)
            })?;
        }
        (RequestKind::Address, name) => {
            return read_address_field(cur, el, name, &mut f.address, &mut f.has_server_address)
        }
        (RequestKind::Ticket, "Ticket") => {
            f.ticket = non_empty(text(cur, "Ticket is not a plain value")?)
        }
        (RequestKind::ServerFarmData, "ServerFarmData") => {
            let name = &mut f.farm_name;
            xml::walk_children::<ResponseError, _>(cur, |cur, child| {
                if !is(child, "ServerFarmName") {
                    return Ok(false);
                }
                *name = non_empty(text(cur, "ServerFarmName is not a plain value")?);
                Ok(true)
            })?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn read_address_field<'i>(
    cur: &mut impl Nodes<'i>,
    el: &Element<'_>,
    name: &str,
    a: &mut Address,
    has_server_address: &mut bool,
) -> Result<bool, ResponseError> {
    let slot = match name {
        "ServerAddress" => {
            a.address_type = match el.attr("addresstype")? {
                Some(t) => non_empty(bounded(t.trim(), "addresstype is too long")?),
                None => None,
            };
            a.server_address = text(cur, "ServerAddress is not a plain value")?;
            *has_server_address = !a.server_address.is_empty();
            return Ok(true);
        }
        "DisconnectedSession" => {
            a.disconnected_session = true;
            return Ok(false);
        }
        "ServerType" => &mut a.server_type,
        "ConnectionType" => &mut a.connection_type,
        "TicketTag" => &mut a.ticket_tag,
        "SSLRelayAddress" => &mut a.ssl_relay_address,
        "CGPAddress" => &mut a.cgp_address,
        _ => return Ok(false),
    };
    *slot = non_empty(text(cur, "an address field is not a plain value")?);
    Ok(true)
}

/// After `<AppData>`: the session, or `None` if it cannot be addressed.
fn read_app_data<'i>(cur: &mut impl Nodes<'i>) -> Result<Option<AppSession>, ResponseError> {
    let mut in_name = None;
    let mut host_id = None;
    let mut host_id_type = None;
    let mut session_id = None;
    let mut server_type = None;
    let mut client_type = None;
    xml::walk_children::<ResponseError, _>(cur, |cur, el| {
        if el.ns.is_some() {
            return Ok(false);
        }
        let slot = match el.local() {
            "InName" => &mut in_name,
            "HostId" => {
                host_id_type = match el.attr("type")? {
                    Some(t) => non_empty(bounded(t.trim(), "HostId type is too long")?),
                    None => None,
                };
                &mut host_id
            }
            "SessionId" => &mut session_id,
            "ServerType" => &mut server_type,
            "ClientType" => &mut client_type,
            _ => return Ok(false),
        };
        *slot = non_empty(text(cur, "an AppData field is not a plain value")?);
        Ok(true)
    })?;
    let (Some(in_name), Some(host_id), Some(session_id)) = (in_name, host_id, session_id) else {
        return Ok(None);
    };
    Ok(Some(AppSession {
        session: SessionName {
            in_name,
            host_id,
            host_id_type: host_id_type.unwrap_or_else(|| "ima-host-id".to_owned()),
            session_id,
        },
        server_type,
        client_type,
    }))
}

#[cfg(test)]
mod readers;
