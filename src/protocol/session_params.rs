//! The `sessionparams` request body of `available`, `disconnect` and `logoff`: parse, validate,
//! and write back in canonical form.
//!
//! The gateway never forwards what the client sent: it forwards [`SessionParams::to_xml`], so
//! that only the known fields, checked, reach StoreFront (unknown elements are dropped, nothing
//! the gateway did not understand leaks through). Both root spellings exist in the wild —
//! `sessionparams` in the Store API documentation, `sessionParams` in Citrix's own PowerShell
//! client — and the canonical body keeps the client's spelling.

use std::borrow::Cow;

use super::ns;
use super::xml::{self, Cursor, Node, Nodes, ScanCursor, XmlError};

/// How the client spelled the root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// `sessionparams` (the Store API documentation).
    Lower,
    /// `sessionParams` (Citrix's PowerShell module).
    Camel,
}

impl Root {
    /// The element name.
    pub fn name(self) -> &'static str {
        match self {
            Root::Lower => "sessionparams",
            Root::Camel => "sessionParams",
        }
    }
}

/// A checked `sessionparams` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionParams {
    /// Root spelling, kept for the canonical body.
    pub root: Root,
    /// `clientName`, trimmed.
    pub client_name: String,
    /// `deviceId`, trimmed; an empty element counts as absent.
    pub device_id: Option<String>,
    /// `includeActiveSessions`.
    pub include_active_sessions: Option<bool>,
    /// `appSessionsOnly`.
    pub app_sessions_only: Option<bool>,
    /// `tickets/ticket` (disconnect and logoff only), trimmed, in order.
    pub tickets: Vec<String>,
}

/// Size bounds of a `sessionparams` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest `clientName` / `deviceId`, in characters.
    pub max_name_len: usize,
    /// Most tickets in one request.
    pub max_tickets: usize,
    /// Longest ticket, in characters.
    pub max_ticket_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_name_len: 256,
            max_tickets: 16,
            max_ticket_len: 256,
        }
    }
}

/// Why a `sessionparams` (or `launchparams`) body was refused. The message is a sentence for
/// the client; [`ParamsError::reason`] is the machine-readable class.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ParamsError {
    /// Not readable as XML, forbidden markup, or beyond the reader's bounds.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// Wrong root element or namespace; holds what was expected.
    #[error("the root element must be {0}")]
    WrongRoot(&'static str),
    /// A required element is absent.
    #[error("element {0} is required")]
    Missing(&'static str),
    /// An element that may appear once appears again.
    #[error("element {0} appears more than once")]
    Duplicate(&'static str),
    /// Child elements inside an element that holds text.
    #[error("element {0} must contain text only")]
    NotText(&'static str),
    /// Non-whitespace text directly inside an element that holds elements.
    #[error("element {0} must contain elements only")]
    StrayText(&'static str),
    /// A boolean other than `true` / `false`.
    #[error("element {0} must be exactly true or false")]
    NotBoolean(&'static str),
    /// An empty (or all-whitespace) value where one is required.
    #[error("element {0} must not be empty")]
    Empty(&'static str),
    /// NUL, CR, LF or another control character.
    #[error("element {0} must not contain control characters (NUL, CR, LF and the like)")]
    ControlChar(&'static str),
    /// A value longer than allowed.
    #[error("element {0} is longer than {1} characters")]
    TooLong(&'static str, usize),
    /// `tickets` in an `available` request.
    #[error("element tickets is only allowed in disconnect and logoff requests")]
    TicketsNotAllowed,
    /// More tickets than [`Limits::max_tickets`].
    #[error("element tickets holds more than {0} tickets")]
    TooManyTickets(usize),
    /// A ticket with a character outside visible ASCII.
    #[error("element ticket must contain visible ASCII characters only")]
    BadTicket,
}

impl ParamsError {
    /// The machine-readable class of the refusal: `body_malformed` (not well-formed, not
    /// UTF-8), `body_forbidden_markup` (DOCTYPE, entity, processing instruction) or
    /// `body_invalid` (everything else: root, fields, limits).
    pub fn reason(&self) -> &'static str {
        match self {
            ParamsError::Xml(e) if e.is_forbidden() => "body_forbidden_markup",
            ParamsError::Xml(e) if e.is_limit() => "body_invalid",
            ParamsError::Xml(_) => "body_malformed",
            _ => "body_invalid",
        }
    }
}

const ROOT: &str =
    "sessionparams or sessionParams in namespace http://citrix.com/delivery-services/1-0/sessionparams";

/// Parse and check a `sessionparams` body. `allow_tickets` is true for disconnect and logoff.
///
/// The body is read by the scanner's [`ScanCursor`] first, at a fraction of the [`Cursor`]'s
/// cost; a body it does not read, and every body it would refuse, is read again by the `Cursor`,
/// so that each refusal is decided and named on one path only.
pub fn parse(
    body: &[u8],
    allow_tickets: bool,
    limits: &Limits,
) -> Result<SessionParams, ParamsError> {
    if let Some(Ok(params)) = by_scanner(body, allow_tickets, limits) {
        return Ok(params);
    }
    by_cursor(body, allow_tickets, limits)
}

/// [`parse`]'s two readers each alone: the scanner's result (`None` when the body lies outside
/// its subset) and the `Cursor`'s. For the tests and the differential fuzz property that hold
/// the two to the same answer.
#[allow(clippy::type_complexity)]
pub fn parse_each(
    body: &[u8],
    allow_tickets: bool,
    limits: &Limits,
) -> (
    Option<Result<SessionParams, ParamsError>>,
    Result<SessionParams, ParamsError>,
) {
    (
        by_scanner(body, allow_tickets, limits),
        by_cursor(body, allow_tickets, limits),
    )
}

fn by_scanner(
    body: &[u8],
    allow_tickets: bool,
    limits: &Limits,
) -> Option<Result<SessionParams, ParamsError>> {
    ScanCursor::new(body).map(|mut fast| read(&mut fast, allow_tickets, limits))
}

fn by_cursor(
    body: &[u8],
    allow_tickets: bool,
    limits: &Limits,
) -> Result<SessionParams, ParamsError> {
    read(&mut Cursor::new(body)?, allow_tickets, limits)
}

fn read<'i>(
    cur: &mut impl Nodes<'i>,
    allow_tickets: bool,
    limits: &Limits,
) -> Result<SessionParams, ParamsError> {
    let root_element = cur.root()?;
    let root = match (root_element.ns, root_element.local()) {
        (Some(ns::SESSION_PARAMS), "sessionparams") => Root::Lower,
        (Some(ns::SESSION_PARAMS), "sessionParams") => Root::Camel,
        _ => return Err(ParamsError::WrongRoot(ROOT)),
    };
    let mut seen = Seen::default();
    let mut client_name = None;
    let mut params = SessionParams {
        root,
        client_name: String::new(),
        device_id: None,
        include_active_sessions: None,
        app_sessions_only: None,
        tickets: Vec::new(),
    };
    loop {
        match cur.next_node()? {
            Node::Start(child) if child.ns == Some(ns::SESSION_PARAMS) => match child.local() {
                "clientName" => {
                    once(&mut seen.client_name, "clientName")?;
                    let value = leaf(cur, "clientName")?;
                    client_name = Some(check_name("clientName", &value, limits)?.to_string());
                }
                "deviceId" => {
                    once(&mut seen.device_id, "deviceId")?;
                    let value = leaf(cur, "deviceId")?;
                    if !value.trim_matches(xml::is_xml_space).is_empty() {
                        params.device_id =
                            Some(check_name("deviceId", &value, limits)?.to_string());
                    }
                }
                "includeActiveSessions" => {
                    once(&mut seen.include_active_sessions, "includeActiveSessions")?;
                    params.include_active_sessions = Some(boolean(cur, "includeActiveSessions")?);
                }
                "appSessionsOnly" => {
                    once(&mut seen.app_sessions_only, "appSessionsOnly")?;
                    params.app_sessions_only = Some(boolean(cur, "appSessionsOnly")?);
                }
                "tickets" if !allow_tickets => return Err(ParamsError::TicketsNotAllowed),
                "tickets" => {
                    once(&mut seen.tickets, "tickets")?;
                    params.tickets = tickets(cur, limits)?;
                }
                // An unknown element of our namespace: ignored, and not forwarded.
                _ => cur.skip()?,
            },
            // Elements of other namespaces are extensions we do not know: ignored as well.
            Node::Start(_) => cur.skip()?,
            Node::Text { text, .. } => stray_text(&text, root.name())?,
            Node::End(_) => break,
            Node::Other(_) => {}
            Node::Eof => return Err(XmlError::Malformed("unexpected end of input".into()).into()),
        }
    }
    cur.finish()?;
    params.client_name = client_name.ok_or(ParamsError::Missing("clientName"))?;
    Ok(params)
}

impl SessionParams {
    /// The canonical body: XML declaration, the client's root spelling with the default
    /// namespace, then clientName, deviceId, includeActiveSessions, appSessionsOnly,
    /// tickets/ticket — the ones present, no indentation.
    pub fn to_xml(&self) -> Vec<u8> {
        let root = self.root.name();
        // The markup around the values is at most 288 bytes, and each ticket's element adds 17
        // (`<ticket></ticket>`); escaping may still grow a value, which the Vec absorbs.
        let values = self.client_name.len()
            + self.device_id.as_ref().map_or(0, String::len)
            + self.tickets.iter().map(|t| t.len() + 17).sum::<usize>();
        let mut out = Vec::with_capacity(320 + values);
        out.extend_from_slice(xml::DECLARATION.as_bytes());
        for part in ["<", root, " xmlns=\"", ns::SESSION_PARAMS, "\">"] {
            out.extend_from_slice(part.as_bytes());
        }
        xml::push_text_element(&mut out, "clientName", &self.client_name);
        if let Some(device_id) = &self.device_id {
            xml::push_text_element(&mut out, "deviceId", device_id);
        }
        if let Some(v) = self.include_active_sessions {
            xml::push_text_element(&mut out, "includeActiveSessions", bool_text(v));
        }
        if let Some(v) = self.app_sessions_only {
            xml::push_text_element(&mut out, "appSessionsOnly", bool_text(v));
        }
        if !self.tickets.is_empty() {
            out.extend_from_slice(b"<tickets>");
            for ticket in &self.tickets {
                xml::push_text_element(&mut out, "ticket", ticket);
            }
            out.extend_from_slice(b"</tickets>");
        }
        for part in ["</", root, ">"] {
            out.extend_from_slice(part.as_bytes());
        }
        out
    }
}

/// Which known elements were already read (each may appear once).
#[derive(Default)]
struct Seen {
    client_name: bool,
    device_id: bool,
    include_active_sessions: bool,
    app_sessions_only: bool,
    tickets: bool,
}

fn once(seen: &mut bool, name: &'static str) -> Result<(), ParamsError> {
    if std::mem::replace(seen, true) {
        return Err(ParamsError::Duplicate(name));
    }
    Ok(())
}

/// The text of the element just started; child elements are refused.
fn leaf<'i>(cur: &mut impl Nodes<'i>, name: &'static str) -> Result<Cow<'i, str>, ParamsError> {
    cur.leaf()?.ok_or(ParamsError::NotText(name))
}

fn stray_text(text: &str, parent: &'static str) -> Result<(), ParamsError> {
    if text.trim_matches(xml::is_xml_space).is_empty() {
        Ok(())
    } else {
        Err(ParamsError::StrayText(parent))
    }
}

/// A client name or device id: trimmed, non-empty, no control character, bounded.
pub(crate) fn check_name<'v>(
    name: &'static str,
    value: &'v str,
    limits: &Limits,
) -> Result<&'v str, ParamsError> {
    let value = value.trim_matches(xml::is_xml_space);
    if value.is_empty() {
        return Err(ParamsError::Empty(name));
    }
    check_text(name, value, limits.max_name_len)?;
    Ok(value)
}

/// No control character (NUL, CR, LF, DEL, C1 ...) nor U+FFFE / U+FFFF, which no XML document
/// may hold (the canonical body must stay well-formed), at most `max` characters.
pub(crate) fn check_text(name: &'static str, value: &str, max: usize) -> Result<(), ParamsError> {
    if value
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}'))
    {
        return Err(ParamsError::ControlChar(name));
    }
    if value.chars().count() > max {
        return Err(ParamsError::TooLong(name, max));
    }
    Ok(())
}

fn boolean<'i>(cur: &mut impl Nodes<'i>, name: &'static str) -> Result<bool, ParamsError> {
    match leaf(cur, name)?.trim_matches(xml::is_xml_space) {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ParamsError::NotBoolean(name)),
    }
}

fn bool_text(v: bool) -> &'static str {
    if v {
        "true"
    } else {
        "false"
    }
}

/// The `ticket` children of the `tickets` element just started.
fn tickets<'i>(cur: &mut impl Nodes<'i>, limits: &Limits) -> Result<Vec<String>, ParamsError> {
    let mut tickets = Vec::new();
    loop {
        match cur.next_node()? {
            Node::Start(child) if child.is(ns::SESSION_PARAMS, "ticket") => {
                if tickets.len() >= limits.max_tickets {
                    return Err(ParamsError::TooManyTickets(limits.max_tickets));
                }
                let value = leaf(cur, "ticket")?;
                let value = value.trim_matches(xml::is_xml_space);
                if value.is_empty() {
                    return Err(ParamsError::Empty("ticket"));
                }
                if !value.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(ParamsError::BadTicket);
                }
                if value.len() > limits.max_ticket_len {
                    return Err(ParamsError::TooLong("ticket", limits.max_ticket_len));
                }
                tickets.push(value.to_string());
            }
            Node::Start(_) => cur.skip()?,
            Node::Text { text, .. } => stray_text(&text, "tickets")?,
            Node::End(_) => return Ok(tickets),
            Node::Other(_) => {}
            Node::Eof => return Err(XmlError::Malformed("unexpected end of input".into()).into()),
        }
    }
}

#[cfg(test)]
mod readers;
#[cfg(test)]
mod tests;
