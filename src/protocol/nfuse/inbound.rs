//! Reading an NFuse request a client sent (the relay's side of the protocol): what it asks, what
//! credentials it carries and whether it asks for active sessions, without keeping any secret.
//!
//! The rules are stricter than a broker's, because the relay stands in front of brokers that may
//! resolve what it lets through:
//! * the document goes through the safe [`Cursor`]: no internal subset, entity declaration,
//!   entity reference or processing instruction ever passes;
//! * the only DOCTYPE accepted is the literal `NFuseProtocol` one, bare or with
//!   `SYSTEM "NFuse.dtd"` (either quotes): any other system or public identifier is something a
//!   broker might fetch;
//! * the root is `NFuseProtocol` (no namespace) with exactly one `Request*` child, and at most
//!   one `Credentials` in it.
//!
//! Credentials are classified, never kept: a password is only noted as present, with the user
//! name it is for (bounded) for throttling.

use super::request_type::RequestType;
use crate::protocol::xml::{self, Cursor, Element, Node, Nodes, XmlError};

/// Longest user name (domain included) kept for throttling; longer names are cut.
pub const MAX_USER_CHARS: usize = 128;
/// Most `SessionType` elements read; a real request has at most two.
const MAX_SESSION_TYPES: usize = 8;

/// Why a body is not a request the relay passes on.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum InboundError {
    /// Unreadable, or markup refused on principle (internal subset, entity, PI).
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// A DOCTYPE other than the literal `NFuseProtocol` one.
    #[error("only <!DOCTYPE NFuseProtocol> or <!DOCTYPE NFuseProtocol SYSTEM \"NFuse.dtd\"> is accepted")]
    Doctype,
    /// Readable XML of the wrong shape.
    #[error("not an NFuse request: {0}")]
    Shape(&'static str),
}

impl InboundError {
    /// Did the body try to declare or use something a parser would resolve (XXE and kin)?
    pub fn is_forbidden_markup(&self) -> bool {
        match self {
            InboundError::Xml(e) => e.is_forbidden(),
            InboundError::Doctype => true,
            InboundError::Shape(_) => false,
        }
    }
}

/// The credentials a request carries, by what a broker does with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialForm {
    /// No `Credentials` element.
    Missing,
    /// `<AnonymousUser/>`, or a `Credentials` element naming nobody.
    Anonymous,
    /// `<ID>` elements: a trusting broker takes them without a password. Any `<ID>` makes the
    /// whole set identity-only, password or not, since a broker may honour the ID alone.
    Identity,
    /// A password, for `user` (`DOMAIN\name` as given, lower-cased, bounded; empty if none).
    Password { user: String },
}

/// What the relay needs to know about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub request: RequestType,
    pub credentials: CredentialForm,
    /// `<DesiredDetails>access-list</DesiredDetails>`: every application's ACL is asked for.
    pub access_list: bool,
    /// `<SessionType>active</SessionType>`: listing active sessions (disconnects them before XD7).
    pub active_sessions: bool,
}

/// Read a request body (UTF-8, or ISO-8859-1 when declared so).
pub fn parse_inbound(body: &[u8]) -> Result<Inbound, InboundError> {
    let text = xml::decode_legacy(body)?;
    let mut cur = Cursor::from_text(&text).allow_doctype();
    let root = root(&mut cur)?;
    if root.namespaced || root.local() != "NFuseProtocol" {
        return Err(InboundError::Shape("the root element is not NFuseProtocol"));
    }
    if root.empty {
        return Err(InboundError::Shape("no Request* element"));
    }
    let mut inbound = None;
    xml::walk_children::<InboundError, _>(&mut cur, |cur, el| {
        let local = el.local();
        if !local.starts_with("Request") {
            return Ok(false);
        }
        if inbound.is_some() {
            return Err(InboundError::Shape("more than one Request* element"));
        }
        inbound = Some(read_request(cur, el)?);
        Ok(true)
    })?;
    cur.finish()?;
    inbound.ok_or(InboundError::Shape("no Request* element"))
}

/// Skip to the root, checking the one DOCTYPE that may come before it.
fn root<'i>(cur: &mut Cursor<'i>) -> Result<Element<'i>, InboundError> {
    loop {
        match cur.next_node()? {
            Node::Start(root) => return Ok(root),
            Node::Other(quick_xml::events::Event::DocType(d)) if !is_nfuse_doctype(d.as_ref()) => {
                return Err(InboundError::Doctype)
            }
            Node::Eof => return Err(XmlError::Malformed("no root element".into()).into()),
            _ => {}
        }
    }
}

/// `NFuseProtocol`, or `NFuseProtocol SYSTEM "NFuse.dtd"` (either quotes, any spacing).
pub fn is_nfuse_doctype(declaration: &str) -> bool {
    let words: Vec<&str> = declaration.split_ascii_whitespace().collect();
    match words.as_slice() {
        ["NFuseProtocol"] => true,
        ["NFuseProtocol", "SYSTEM", id] => matches!(*id, "\"NFuse.dtd\"" | "'NFuse.dtd'"),
        _ => false,
    }
}

/// After the start tag of the `Request*` element.
fn read_request(cur: &mut Cursor<'_>, el: &Element<'_>) -> Result<Inbound, InboundError> {
    if el.namespaced {
        return Err(InboundError::Shape(
            "the Request* element is in a namespace",
        ));
    }
    let mut inbound = Inbound {
        request: RequestType::of_element(el.local()),
        credentials: CredentialForm::Missing,
        access_list: false,
        active_sessions: false,
    };
    // An empty element's end comes next, which ends the walk at once.
    let mut credentials_seen = false;
    let mut session_types = 0usize;
    xml::walk_children::<InboundError, _>(cur, |cur, child| {
        match child.local() {
            "Credentials" => {
                if std::mem::replace(&mut credentials_seen, true) {
                    return Err(InboundError::Shape("more than one Credentials element"));
                }
                inbound.credentials = read_credentials(cur)?;
            }
            "DesiredDetails" => {
                let value = leaf(cur)?;
                inbound.access_list |= value.eq_ignore_ascii_case("access-list");
            }
            "SessionType" => {
                session_types += 1;
                if session_types > MAX_SESSION_TYPES {
                    return Err(InboundError::Shape("too many SessionType elements"));
                }
                inbound.active_sessions |= leaf(cur)?.eq_ignore_ascii_case("active");
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(inbound)
}

/// The trimmed text of a leaf; an element with children reads as empty.
fn leaf(cur: &mut Cursor<'_>) -> Result<String, InboundError> {
    let text = cur.leaf()?.unwrap_or_default();
    Ok(text.trim_matches(xml::is_xml_space).to_string())
}

/// After `<Credentials>`: classify it, keeping only the user name of a password logon.
fn read_credentials(cur: &mut Cursor<'_>) -> Result<CredentialForm, InboundError> {
    let (mut id, mut password) = (false, false);
    let (mut name, mut domain) = (String::new(), String::new());
    xml::walk_children::<InboundError, _>(cur, |cur, child| {
        match child.local() {
            "ID" => {
                id = true;
                return Ok(false);
            }
            // Present at all: even an empty password is a logon attempt.
            "Password" => {
                password = true;
                return Ok(false);
            }
            "UserName" => name = leaf(cur)?,
            "Domain" => domain = leaf(cur)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(match (id, password) {
        (true, _) => CredentialForm::Identity,
        (false, true) => CredentialForm::Password {
            user: user_key(&domain, &name),
        },
        (false, false) => CredentialForm::Anonymous,
    })
}

/// `domain\name`, lower-cased (Windows accounts ignore case), at most [`MAX_USER_CHARS`].
fn user_key(domain: &str, name: &str) -> String {
    let full = if domain.is_empty() || name.contains('\\') || name.contains('@') {
        name.to_string()
    } else {
        format!("{domain}\\{name}")
    };
    full.to_lowercase().chars().take(MAX_USER_CHARS).collect()
}
