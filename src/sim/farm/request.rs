//! NFuse requests as the simulated broker reads them: with the crate's safe XML reader (no DTD
//! resolved), any element order, unknown elements ignored, and only what the simulation needs
//! kept.

use super::state::Client;
use crate::protocol::xml::{self, children, leaf_text, Cursor, DocumentError, Nodes};

/// Why a body is not an NFuse request the simulator can read.
#[derive(Debug, thiserror::Error)]
pub(super) enum ParseError {
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Xml(#[from] xml::XmlError),
    #[error("the root element is not NFuseProtocol")]
    NotNfuse,
    #[error("no Request* element")]
    NoRequest,
}

/// The credentials of a request, as far as the simulator cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Credentials {
    Missing,
    /// Identity only: `<ID type="SAM">DOMAIN\user</ID>` (SIDs are ignored).
    Identity(String),
    /// `UserName`/`Password`: the simulator knows no passwords.
    Password,
    /// `<AnonymousUser/>`, or a `Credentials` element naming nobody.
    Nobody,
}

/// The `Name` of a `RequestAddress`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AddressName {
    App(String),
    Session {
        in_name: String,
        host_id: String,
        session_id: String,
    },
    /// `ServerName`, `UnspecifiedName`, ...: not simulated.
    Other,
}

/// An NFuse request, every element the simulator reads, whatever their order.
#[derive(Debug, Clone)]
pub(super) struct NfuseRequest {
    pub(super) kind: String,
    pub(super) credentials: Credentials,
    pub(super) client_name: Option<String>,
    pub(super) device_id: Option<String>,
    pub(super) session_types: Vec<String>,
    pub(super) name: Option<AddressName>,
    /// `<DesiredDetails>access-list</DesiredDetails>` (`RequestAppData`).
    pub(super) access_list: bool,
}

impl NfuseRequest {
    pub(super) fn client(&self) -> Client<'_> {
        Client {
            client_name: self.client_name.as_deref(),
            device_id: self.device_id.as_deref(),
        }
    }
}

/// Text content, XML whitespace trimmed; `None` when nothing is left (`<ClientName/>`).
fn value(cur: &mut Cursor<'_>, what: &'static str) -> Result<Option<String>, DocumentError> {
    let text = leaf_text(cur, what)?;
    let text = text.trim_matches(xml::is_xml_space);
    Ok((!text.is_empty()).then(|| text.to_string()))
}

/// Read an NFuse request. Any `version` and any DOCTYPE without internal subset are accepted,
/// element order is not enforced and unknown elements are ignored.
pub(super) fn parse(body: &[u8]) -> Result<NfuseRequest, ParseError> {
    let text = xml::decode_legacy(body)?;
    let mut cur = Cursor::from_text(&text).allow_doctype();
    let root = cur.root()?;
    if root.local() != "NFuseProtocol" {
        return Err(ParseError::NotNfuse);
    }
    let mut request = None;
    children(&mut cur, |cur, child| {
        let local = child.local();
        // "A request carries exactly one Request* child": later ones are ignored.
        if request.is_some() || !local.starts_with("Request") {
            return Ok(false);
        }
        request = Some(parse_request(cur, local.to_string())?);
        Ok(true)
    })?;
    cur.finish()?;
    request.ok_or(ParseError::NoRequest)
}

fn parse_request(cur: &mut Cursor<'_>, kind: String) -> Result<NfuseRequest, DocumentError> {
    let mut req = NfuseRequest {
        kind,
        credentials: Credentials::Missing,
        client_name: None,
        device_id: None,
        session_types: Vec::new(),
        name: None,
        access_list: false,
    };
    children(cur, |cur, child| {
        match child.local() {
            "Credentials" => req.credentials = parse_credentials(cur)?,
            "ClientName" => req.client_name = value(cur, "ClientName")?,
            "DeviceId" => req.device_id = value(cur, "DeviceId")?,
            "SessionType" => {
                // Bounded: a real request names at most the two types.
                let t = value(cur, "SessionType")?;
                if let Some(t) = t.filter(|_| req.session_types.len() < 8) {
                    req.session_types.push(t);
                }
            }
            "Name" => req.name = Some(parse_name(cur)?),
            "DesiredDetails" => {
                let detail = value(cur, "DesiredDetails")?.unwrap_or_default();
                req.access_list |= detail.eq_ignore_ascii_case("access-list");
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(req)
}

fn parse_credentials(cur: &mut Cursor<'_>) -> Result<Credentials, DocumentError> {
    let mut sam = None;
    let mut user_name = false;
    children(cur, |cur, child| {
        match child.local() {
            "ID" => {
                let is_sam = child
                    .attr("type")?
                    .is_some_and(|t| t.eq_ignore_ascii_case("SAM"));
                let id = value(cur, "ID")?;
                if is_sam && sam.is_none() {
                    sam = id;
                }
            }
            "UserName" => {
                value(cur, "UserName")?;
                user_name = true;
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(match (user_name, sam) {
        (true, _) => Credentials::Password,
        (false, Some(sam)) => Credentials::Identity(sam),
        (false, None) => Credentials::Nobody,
    })
}

fn parse_name(cur: &mut Cursor<'_>) -> Result<AddressName, DocumentError> {
    let mut name = AddressName::Other;
    children(cur, |cur, child| {
        match child.local() {
            "AppName" => name = AddressName::App(value(cur, "AppName")?.unwrap_or_default()),
            "SessionName" => {
                let (mut in_name, mut host_id, mut session_id) = (None, None, None);
                children(cur, |cur, part| {
                    match part.local() {
                        "InName" => in_name = value(cur, "InName")?,
                        "HostId" => host_id = value(cur, "HostId")?,
                        "SessionId" => session_id = value(cur, "SessionId")?,
                        _ => return Ok(false),
                    }
                    Ok(true)
                })?;
                name = AddressName::Session {
                    in_name: in_name.unwrap_or_default(),
                    host_id: host_id.unwrap_or_default(),
                    session_id: session_id.unwrap_or_default(),
                };
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_order_and_ignores_unknown_elements() {
        let body = "<?xml version='1.0' encoding='ISO-8859-1'?>\r\n<!DOCTYPE NFuseProtocol>\r\n\
            <NFuseProtocol version='4.1'><RequestDisconnectUserSessions><DeviceId>d1</DeviceId>\
            <Unknown><x/></Unknown><Credentials><ID type='SID'>S-1-5</ID><ID type='SAM'>CORP\\a</ID>\
            </Credentials><ClientType>ica30</ClientType></RequestDisconnectUserSessions></NFuseProtocol>";
        let r = parse(body.as_bytes()).unwrap();
        assert_eq!(r.kind, "RequestDisconnectUserSessions");
        assert_eq!(r.credentials, Credentials::Identity("CORP\\a".into()));
        assert_eq!(r.device_id.as_deref(), Some("d1"));
        assert_eq!(r.client_name, None);
    }

    #[test]
    fn parses_session_names_and_password_credentials() {
        let body = "<NFuseProtocol version=\"5.0\"><RequestAddress><Name><SessionName>\
            <InName>Notepad</InName><HostId type=\"ima-host-id\">23363</HostId><SessionId>2</SessionId>\
            </SessionName></Name><Credentials><UserName>u</UserName><Password encoding=\"cleartext\">p\
            </Password></Credentials><ClientName>c</ClientName></RequestAddress></NFuseProtocol>";
        let r = parse(body.as_bytes()).unwrap();
        assert_eq!(r.credentials, Credentials::Password);
        assert_eq!(
            r.name,
            Some(AddressName::Session {
                in_name: "Notepad".into(),
                host_id: "23363".into(),
                session_id: "2".into()
            })
        );
    }

    #[test]
    fn refuses_what_is_not_a_request() {
        assert!(parse(b"<Other/>").is_err());
        assert!(parse(b"<NFuseProtocol/>").is_err());
        assert!(parse(b"<NFuseProtocol><Request").is_err());
        let xxe = b"<!DOCTYPE NFuseProtocol [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\
            <NFuseProtocol><RequestServerFarmData/></NFuseProtocol>";
        assert!(parse(xxe).is_err());
    }
}
