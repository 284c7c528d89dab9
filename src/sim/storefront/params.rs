//! The simulated store's own reader of the request bodies it is sent: `sessionparams`
//! (`available`, `disconnect`, `logoff`) and `launchparams` (`.../launch/ica`).
//!
//! The simulator stands for the StoreFront server behind the gateway, so it reads these with
//! quick-xml directly and shares no code with the gateway's `protocol::session_params` and
//! `protocol::launch_params`: reading with the gateway's parsers would make it agree with
//! whatever the gateway believes, and it could never catch the gateway forwarding something a
//! server would refuse. It is stricter than the gateway, which takes what clients send and
//! forwards one canonical body; only a body in that spirit is accepted here:
//!
//! * UTF-8 only (a BOM is dropped, the declared encoding is ignored, as real clients declare
//!   `utf-16` on UTF-8 bytes), at most [`MAX_BODY`] bytes, well-formed;
//! * no DOCTYPE, no processing instruction, no entity reference other than the five predefined
//!   ones and character references;
//! * the root is `sessionparams` (or `sessionParams`, as Citrix's PowerShell client spells it) or
//!   `launchparams`, in its namespace whatever the prefix; every child is in that namespace, is a
//!   documented element, appears at most once, in any order; unknown elements are refused;
//! * no attribute other than namespace declarations;
//! * values are text only, taken as sent (not trimmed), not blank, without control characters,
//!   at most [`MAX_VALUE_CHARS`] characters; booleans are exactly `true` or `false`;
//!   `clientName` is required in `sessionparams`;
//! * `tickets` only where the route takes them (disconnect and logoff), holding at most
//!   [`MAX_TICKETS`] `ticket` elements of visible ASCII.
//!
//! The launch values other than `clientName` and `deviceId` are checked as values but not
//! against the documented value sets (`audio`: high|medium|low|off and the like), which no
//! published schema confirms.

use std::borrow::Cow;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// Written out rather than taken from `protocol::ns`, so that a wrong URI there shows up here.
const SESSION_PARAMS_NS: &str = "http://citrix.com/delivery-services/1-0/sessionparams";
const LAUNCH_PARAMS_NS: &str = "http://citrix.com/delivery-services/1-0/launchparams";

/// The roots, as the refusal names them.
const SESSION_ROOT: &str =
    "sessionparams or sessionParams in namespace http://citrix.com/delivery-services/1-0/sessionparams";
const LAUNCH_ROOT: &str =
    "launchparams in namespace http://citrix.com/delivery-services/1-0/launchparams";

/// Largest body read.
pub const MAX_BODY: usize = super::MAX_REQUEST_BODY;
/// Longest value (client name, device id, launch value, ticket), in characters.
pub const MAX_VALUE_CHARS: usize = 256;
/// Most tickets in one request.
pub const MAX_TICKETS: usize = 16;
/// Most attributes (all namespace declarations) on one element.
const MAX_ATTRIBUTES: usize = 4;
/// Namespace bindings in scope at once: the grammar allows three levels of elements.
const MAX_NAMESPACE_BINDINGS: usize = 3 * MAX_ATTRIBUTES;
/// Longest element name or parser message quoted back in an error.
const MAX_QUOTED_CHARS: usize = 120;

/// What the simulator needs from a `sessionparams` body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionParams {
    pub client_name: String,
    pub device_id: Option<String>,
    /// `includeActiveSessions`; absent is false.
    pub include_active: bool,
    /// `appSessionsOnly`; absent is false.
    pub app_sessions_only: bool,
    /// `tickets/ticket`, in order.
    pub tickets: Vec<String>,
}

/// What the simulator needs from a `launchparams` body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchParams {
    pub client_name: Option<String>,
    pub device_id: Option<String>,
}

/// Why a body was refused; the text goes into the simulator's 400 answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("the body is larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("the body is not UTF-8")]
    NotUtf8,
    #[error("the body is not well-formed XML: {0}")]
    Malformed(String),
    #[error("{0} is not accepted")]
    Forbidden(&'static str),
    #[error("the root element must be {0}")]
    WrongRoot(&'static str),
    #[error(
        "attributes other than at most {MAX_ATTRIBUTES} namespace declarations are not accepted"
    )]
    Attribute,
    #[error("element {parent} does not take element {child}")]
    Unknown { parent: &'static str, child: String },
    #[error("element {0} appears more than once")]
    Duplicate(&'static str),
    #[error("element {0} is required")]
    Missing(&'static str),
    #[error("element {0} must contain text only")]
    NotText(&'static str),
    #[error("element {0} must contain elements only")]
    StrayText(&'static str),
    #[error("element {0} must not be empty")]
    Empty(&'static str),
    #[error("element {0} must not contain control characters")]
    ControlChar(&'static str),
    #[error("element {0} is longer than {MAX_VALUE_CHARS} characters")]
    TooLong(&'static str),
    #[error("element {0} must be true or false")]
    NotBoolean(&'static str),
    #[error("tickets are only accepted by disconnect and logoff")]
    TicketsNotAllowed,
    #[error("more than {MAX_TICKETS} tickets")]
    TooManyTickets,
    #[error("a ticket must contain visible ASCII characters only")]
    BadTicket,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionField {
    ClientName,
    DeviceId,
    IncludeActive,
    AppSessionsOnly,
    Tickets,
}

const SESSION_ROOTS: [(&str, ()); 2] = [("sessionparams", ()), ("sessionParams", ())];
const SESSION_FIELDS: [(&str, SessionField); 5] = [
    ("clientName", SessionField::ClientName),
    ("deviceId", SessionField::DeviceId),
    ("includeActiveSessions", SessionField::IncludeActive),
    ("appSessionsOnly", SessionField::AppSessionsOnly),
    ("tickets", SessionField::Tickets),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LaunchField {
    ClientName,
    DeviceId,
    /// Documented, checked as a value, not used by the simulator.
    Other,
}

const LAUNCH_ROOTS: [(&str, ()); 1] = [("launchparams", ())];
const LAUNCH_FIELDS: [(&str, LaunchField); 16] = [
    ("clientName", LaunchField::ClientName),
    ("clientAddress", LaunchField::Other),
    ("deviceId", LaunchField::DeviceId),
    ("audio", LaunchField::Other),
    ("colourDepth", LaunchField::Other),
    ("display", LaunchField::Other),
    ("displayPercent", LaunchField::Other),
    ("displayAbsolute", LaunchField::Other),
    ("transparentKeyPassthrough", LaunchField::Other),
    ("specialFolderRedirection", LaunchField::Other),
    ("clearTypeRemoting", LaunchField::Other),
    ("showDesktopViewer", LaunchField::Other),
    ("launcher", LaunchField::Other),
    ("virtualComPort", LaunchField::Other),
    ("comPortMapping", LaunchField::Other),
    ("clientPrinter", LaunchField::Other),
];

/// Read a `sessionparams` body; `tickets_allowed` is true for disconnect and logoff.
pub fn read_session_params(
    body: &[u8],
    tickets_allowed: bool,
) -> Result<SessionParams, ParamsError> {
    let mut r = Reader::new(body, SESSION_PARAMS_NS)?;
    let (root, ()) = r.root(&SESSION_ROOTS, SESSION_ROOT)?;
    let mut params = SessionParams::default();
    let mut client_name = None;
    r.children(root, &SESSION_FIELDS, true, |r, name, field| {
        match field {
            SessionField::ClientName => client_name = Some(value(name, r.text(name)?)?),
            SessionField::DeviceId => params.device_id = Some(value(name, r.text(name)?)?),
            SessionField::IncludeActive => params.include_active = boolean(name, r.text(name)?)?,
            SessionField::AppSessionsOnly => {
                params.app_sessions_only = boolean(name, r.text(name)?)?;
            }
            SessionField::Tickets if !tickets_allowed => {
                return Err(ParamsError::TicketsNotAllowed)
            }
            SessionField::Tickets => params.tickets = r.tickets()?,
        }
        Ok(())
    })?;
    r.finish()?;
    params.client_name = client_name.ok_or(ParamsError::Missing("clientName"))?;
    Ok(params)
}

/// Read a `launchparams` body.
pub fn read_launch_params(body: &[u8]) -> Result<LaunchParams, ParamsError> {
    let mut r = Reader::new(body, LAUNCH_PARAMS_NS)?;
    let (root, ()) = r.root(&LAUNCH_ROOTS, LAUNCH_ROOT)?;
    let mut params = LaunchParams::default();
    r.children(root, &LAUNCH_FIELDS, true, |r, name, field| {
        let v = value(name, r.text(name)?)?;
        match field {
            LaunchField::ClientName => params.client_name = Some(v),
            LaunchField::DeviceId => params.device_id = Some(v),
            LaunchField::Other => {}
        }
        Ok(())
    })?;
    r.finish()?;
    Ok(params)
}

/// A checked string value, as sent.
fn value(name: &'static str, text: String) -> Result<String, ParamsError> {
    if text.chars().all(is_xml_space) {
        return Err(ParamsError::Empty(name));
    }
    if text.chars().any(char::is_control) {
        return Err(ParamsError::ControlChar(name));
    }
    if text.chars().count() > MAX_VALUE_CHARS {
        return Err(ParamsError::TooLong(name));
    }
    Ok(text)
}

fn boolean(name: &'static str, text: String) -> Result<bool, ParamsError> {
    match text.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ParamsError::NotBoolean(name)),
    }
}

/// XML's whitespace (`S`).
fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// XML 1.0 `Char`: what a character reference may name.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// At most [`MAX_QUOTED_CHARS`] characters of something taken from the body.
fn quoted(text: &str) -> String {
    text.chars().take(MAX_QUOTED_CHARS).collect()
}

fn malformed(e: impl std::fmt::Display) -> ParamsError {
    ParamsError::Malformed(quoted(&e.to_string()))
}

/// One step through a body, document-level rules already enforced.
enum Token<'i> {
    /// An element starts: whether it is in the document's namespace, and its local name.
    Start { ours: bool, local: String },
    /// The innermost open element ends.
    End,
    /// Character data inside the root, references decoded.
    Text(Cow<'i, str>),
    /// End of input after the root.
    Eof,
}

/// A pull reader over quick-xml's namespace-aware reader that enforces the document-level rules
/// of the module documentation. Depth needs no bound of its own: [`Reader::children`] and
/// [`Reader::text`] refuse any element the grammar (at most three levels) does not allow before
/// reading further.
struct Reader<'i> {
    xml: NsReader<&'i [u8]>,
    /// The namespace of the document being read.
    ns: &'static str,
    depth: usize,
    started: bool,
    root_closed: bool,
    /// An empty-element tag was handed out as a start: its end comes next.
    pending_end: bool,
}

impl<'i> Reader<'i> {
    fn new(body: &'i [u8], ns: &'static str) -> Result<Self, ParamsError> {
        if body.len() > MAX_BODY {
            return Err(ParamsError::TooLarge);
        }
        let text = std::str::from_utf8(body).map_err(|_| ParamsError::NotUtf8)?;
        // From a `&str` quick-xml reads UTF-8 whatever the declaration says.
        let mut xml = NsReader::from_str(text.strip_prefix('\u{feff}').unwrap_or(text));
        xml.resolver_mut()
            .set_max_namespace_bindings(MAX_NAMESPACE_BINDINGS);
        Ok(Reader {
            xml,
            ns,
            depth: 0,
            started: false,
            root_closed: false,
            pending_end: false,
        })
    }

    fn next(&mut self) -> Result<Token<'i>, ParamsError> {
        if self.pending_end {
            self.pending_end = false;
            return Ok(self.close());
        }
        loop {
            let first = !std::mem::replace(&mut self.started, true);
            let (resolved, event) = self.xml.read_resolved_event().map_err(malformed)?;
            let ours = match resolved {
                ResolveResult::Bound(uri) => uri.0 == self.ns,
                ResolveResult::Unbound => false,
                ResolveResult::Unknown(_) => return Err(malformed("undeclared namespace prefix")),
            };
            let text = match event {
                Event::Start(start) => return self.open(&start, ours, false),
                Event::Empty(start) => return self.open(&start, ours, true),
                Event::End(_) => return Ok(self.close()),
                // Outside the root only whitespace may appear, and only as plain text.
                Event::Text(t) if self.depth == 0 => {
                    if t.xml10_content().chars().all(is_xml_space) {
                        continue;
                    }
                    return Err(malformed("text outside the root element"));
                }
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) if self.depth == 0 => {
                    return Err(malformed("text outside the root element"));
                }
                Event::Text(t) => t.xml10_content(),
                Event::CData(c) => c.xml10_content(),
                Event::GeneralRef(r) if r.is_char_ref() => match r.resolve_char_ref() {
                    Ok(Some(c)) if is_xml_char(c) => Cow::Owned(c.to_string()),
                    _ => return Err(malformed(format_args!("bad character reference &{};", &*r))),
                },
                Event::GeneralRef(r) => match resolve_predefined_entity(&r) {
                    Some(s) => Cow::Borrowed(s),
                    None => return Err(ParamsError::Forbidden("an entity reference")),
                },
                Event::Comment(_) => continue,
                Event::Decl(_) if first => continue,
                Event::Decl(_) => {
                    return Err(malformed("XML declaration not at the start"));
                }
                Event::PI(_) => return Err(ParamsError::Forbidden("a processing instruction")),
                Event::DocType(_) => return Err(ParamsError::Forbidden("a DOCTYPE")),
                Event::Eof if self.depth > 0 => {
                    return Err(malformed("the body ends inside an element"))
                }
                Event::Eof if !self.root_closed => return Err(malformed("no root element")),
                Event::Eof => return Ok(Token::Eof),
            };
            return Ok(Token::Text(text));
        }
    }

    fn open(
        &mut self,
        start: &BytesStart<'_>,
        ours: bool,
        empty: bool,
    ) -> Result<Token<'i>, ParamsError> {
        if self.root_closed {
            return Err(malformed("more than one root element"));
        }
        for (i, attr) in start.attributes().enumerate() {
            let attr = attr.map_err(malformed)?;
            if i >= MAX_ATTRIBUTES || attr.key.as_namespace_binding().is_none() {
                return Err(ParamsError::Attribute);
            }
        }
        self.depth += 1;
        self.pending_end = empty;
        Ok(Token::Start {
            ours,
            local: quoted(start.local_name().into_inner()),
        })
    }

    fn close(&mut self) -> Token<'i> {
        // quick-xml has already refused an end tag that matches no open element.
        self.depth = self.depth.saturating_sub(1);
        if self.depth == 0 {
            self.root_closed = true;
        }
        Token::End
    }

    /// The root element, one of `roots` in the document's namespace.
    fn root<T: Copy>(
        &mut self,
        roots: &[(&'static str, T)],
        expected: &'static str,
    ) -> Result<(&'static str, T), ParamsError> {
        match self.next()? {
            Token::Start { ours: true, local } => roots
                .iter()
                .find(|(name, _)| *name == local)
                .copied()
                .ok_or(ParamsError::WrongRoot(expected)),
            Token::Start { .. } => Err(ParamsError::WrongRoot(expected)),
            _ => Err(malformed("no root element")),
        }
    }

    /// After the start of `parent`: its children up to its end. Each must be one of `known` and,
    /// if `once`, appear at most once; `visit` reads it. Whitespace between them is fine, other
    /// text is not.
    fn children<T: Copy>(
        &mut self,
        parent: &'static str,
        known: &[(&'static str, T)],
        once: bool,
        mut visit: impl FnMut(&mut Self, &'static str, T) -> Result<(), ParamsError>,
    ) -> Result<(), ParamsError> {
        let mut seen: Vec<&'static str> = Vec::with_capacity(known.len());
        loop {
            match self.next()? {
                Token::Start { ours, local } => {
                    let found = known.iter().find(|(name, _)| ours && *name == local);
                    let Some(&(name, field)) = found else {
                        let child = if ours {
                            local
                        } else {
                            format!("{local} outside namespace {}", self.ns)
                        };
                        return Err(ParamsError::Unknown { parent, child });
                    };
                    if once && seen.contains(&name) {
                        return Err(ParamsError::Duplicate(name));
                    }
                    seen.push(name);
                    visit(self, name, field)?;
                }
                Token::Text(t) if t.chars().all(is_xml_space) => {}
                Token::Text(_) => return Err(ParamsError::StrayText(parent)),
                Token::End => return Ok(()),
                Token::Eof => return Err(malformed("the body ends inside an element")),
            }
        }
    }

    /// After the start of `name`: its text up to its end; a child element is refused.
    fn text(&mut self, name: &'static str) -> Result<String, ParamsError> {
        let mut text = String::new();
        loop {
            match self.next()? {
                Token::Text(t) => text.push_str(&t),
                Token::End => return Ok(text),
                Token::Start { .. } => return Err(ParamsError::NotText(name)),
                Token::Eof => return Err(malformed("the body ends inside an element")),
            }
        }
    }

    /// After the start of `tickets`: its `ticket` children, in order.
    fn tickets(&mut self) -> Result<Vec<String>, ParamsError> {
        let mut tickets = Vec::new();
        self.children("tickets", &[("ticket", ())], false, |r, name, ()| {
            if tickets.len() >= MAX_TICKETS {
                return Err(ParamsError::TooManyTickets);
            }
            let ticket = r.text(name)?;
            if ticket.is_empty() {
                return Err(ParamsError::Empty(name));
            }
            if !ticket.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ParamsError::BadTicket);
            }
            if ticket.len() > MAX_VALUE_CHARS {
                return Err(ParamsError::TooLong(name));
            }
            tickets.push(ticket);
            Ok(())
        })?;
        Ok(tickets)
    }

    /// After the root's end: only comments and whitespace may follow.
    fn finish(&mut self) -> Result<(), ParamsError> {
        match self.next()? {
            Token::Eof => Ok(()),
            _ => Err(malformed("content after the root element")),
        }
    }
}

#[cfg(test)]
mod tests;
