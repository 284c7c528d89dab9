//! The HTTP side of the simulated farm: the Pingora app (an [`HttpServerApp`] rather than a
//! `ServeHttp`, so that a fault can close the connection without answering), the framing checks
//! of the XML service's own HTTP server, NFuse request parsing with the crate's safe reader, and
//! the answer documents written with quick-xml.
//!
//! [`HttpServerApp`]: pingora::apps::HttpServerApp

use std::borrow::Cow;
use std::io;
use std::sync::Arc;

use async_trait::async_trait;
use http::{header, HeaderMap, Method};
use pingora::apps::{HttpPersistentSettings, HttpServerApp, ReusedHttpStream};
use pingora::http::ResponseHeader;
use pingora::protocols::http::ServerSession;
use pingora::server::ShutdownWatch;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::state::{Client, Listed};
use super::{FarmFault, FarmRequest, FarmSim};
use crate::protocol::xml::{self, children, leaf_text, Cursor, DocumentError, XmlWriter};
use crate::sim::{read_body, ReadBody};

/// The XML service's path; matched without regard to ASCII case, as IIS and CtxHttp do.
const PATH: &str = "/scripts/wpnbr.dll";
/// The `Server` header of the XML service's own HTTP server (`CtxHttp`).
const SERVER: &str = "Citrix Web PN Server";
/// How much of a request body is kept for [`FarmSim::requests`].
const MAX_RECORDED_BODY: usize = 64 * 1024;
/// How much of an oversized body is read and dropped before answering, so that the answer
/// reaches the client (closing a socket with unread data makes the kernel reset it).
const MAX_DRAIN: usize = 1024 * 1024;
/// Longest `Request*` element name mirrored into a `Response*` name.
const MAX_KIND_LEN: usize = 64;
/// [I] The element an error is wrapped in when the request names no `Request*` element: no
/// source shows what a broker answers to an unreadable body.
const GENERIC_RESPONSE: &str = "Response";

/// Why a body is not an NFuse request the simulator can read.
#[derive(Debug, thiserror::Error)]
enum ParseError {
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
enum Credentials {
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
enum AddressName {
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
struct NfuseRequest {
    kind: String,
    credentials: Credentials,
    client_name: Option<String>,
    device_id: Option<String>,
    session_types: Vec<String>,
    name: Option<AddressName>,
}

impl NfuseRequest {
    fn client(&self) -> Client<'_> {
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
fn parse(body: &[u8]) -> Result<NfuseRequest, ParseError> {
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

/// The `Response*` element answering `kind`.
fn response_name(kind: &str) -> String {
    match kind.strip_prefix("Request") {
        Some(rest) if !kind.is_empty() && kind.len() <= MAX_KIND_LEN => format!("Response{rest}"),
        _ => GENERIC_RESPONSE.to_string(),
    }
}

/// An answer with exact framing (or none: close the connection).
struct Answer {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Answer {
    fn xml(body: Vec<u8>) -> Answer {
        Answer {
            status: 200,
            content_type: "text/xml",
            body,
        }
    }

    fn text(status: u16, msg: &str) -> Answer {
        Answer {
            status,
            content_type: "text/plain",
            body: format!("{msg}\r\n").into_bytes(),
        }
    }
}

/// The NFuse envelope: declaration, DOCTYPE and `NFuseProtocol` on their own lines (CRLF, as the
/// captures show), then whatever `body` writes. A pre-XenDesktop-7 farm speaks 4.7 in
/// ISO-8859-1, a later one 5.2 in UTF-8 ([I] which dialects and encodings exactly: PS 4.5 FP1
/// answered 4.7, XA6/XD4 answered 5.2; nmap and old brokers declare ISO-8859-1).
fn envelope(pre_xd7: bool, body: impl FnOnce(&mut XmlWriter) -> io::Result<()>) -> Vec<u8> {
    let (version, encoding) = if pre_xd7 {
        ("4.7", "ISO-8859-1")
    } else {
        ("5.2", "UTF-8")
    };
    let mut w = Writer::new(Vec::with_capacity(512));
    let crlf = || Event::Text(BytesText::from_escaped("\r\n"));
    let written = w
        .write_event(Event::Decl(BytesDecl::new("1.0", Some(encoding), None)))
        .and_then(|()| w.write_event(crlf()))
        .and_then(|()| {
            w.write_event(Event::DocType(BytesText::from_escaped(
                "NFuseProtocol SYSTEM \"NFuse.dtd\"",
            )))
        })
        .and_then(|()| w.write_event(crlf()))
        .and_then(|()| {
            w.create_element("NFuseProtocol")
                .with_attribute(("version", version))
                .write_inner_content(body)
                .map(|_| ())
        });
    // Writing into a Vec cannot fail; the result only exists because `Write` is generic.
    debug_assert!(written.is_ok());
    let utf8 = w.into_inner();
    if pre_xd7 {
        latin1(utf8)
    } else {
        utf8
    }
}

/// Re-encode a document the writer produced (UTF-8) as ISO-8859-1. Characters beyond U+00FF can
/// only be in text or attribute values (every name written is ASCII), where a character
/// reference means the same.
fn latin1(utf8: Vec<u8>) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(&utf8) else {
        return utf8;
    };
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match u8::try_from(u32::from(c)) {
            Ok(b) => out.push(b),
            Err(_) => out.extend_from_slice(format!("&#{};", u32::from(c)).as_bytes()),
        }
    }
    out
}

/// `<Response…><ErrorId>id</ErrorId></Response…>`.
fn error_document(pre_xd7: bool, kind: &str, error_id: &str) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element(response_name(kind))
            .write_inner_content(|w| xml::text_element(w, "ErrorId", error_id))
            .map(|_| ())
    })
}

/// A `Response*` element with nothing inside (success of disconnect and logoff).
fn empty_document(pre_xd7: bool, kind: &str) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element(response_name(kind))
            .write_inner_content(|_| Ok(()))
            .map(|_| ())
    })
}

fn farm_data_document(pre_xd7: bool, name: &str) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element("ResponseServerFarmData")
            .write_inner_content(|w| {
                w.create_element("ServerFarmData")
                    .write_inner_content(|w| xml::text_element(w, "ServerFarmName", name))
                    .map(|_| ())
            })
            .map(|_| ())
    })
}

fn reconnect_data_document(pre_xd7: bool, listed: &[Listed]) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element("ResponseReconnectSessionData")
            .write_inner_content(|w| {
                if listed.is_empty() {
                    return Ok(());
                }
                w.create_element("AppDataSet")
                    .write_inner_content(|w| {
                        for s in listed {
                            app_data(w, s)?;
                        }
                        Ok(())
                    })
                    .map(|_| ())
            })
            .map(|_| ())
    })
}

fn app_data(w: &mut XmlWriter, s: &Listed) -> io::Result<()> {
    w.create_element("AppData")
        .with_attribute(("type", "session"))
        .write_inner_content(|w| {
            xml::text_element(w, "InName", &s.app)?;
            w.create_element("DataType")
                .with_attribute(("value", "session"))
                .write_empty()?;
            xml::text_element(w, "ServerType", "win32")?;
            xml::text_element(w, "ClientType", "ica30")?;
            w.create_element("HostId")
                .with_attribute(("type", "ima-host-id"))
                .write_text_content(BytesText::new(&s.host_id.to_string()))?;
            xml::text_element(w, "SessionId", &s.session_id.to_string())
        })
        .map(|_| ())
}

fn address_document(pre_xd7: bool, server: &str, host_id: u32, disconnected: bool) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element("ResponseAddress")
            .write_inner_content(|w| {
                w.create_element("ServerAddress")
                    .with_attribute(("addresstype", "dot-port"))
                    .write_text_content(BytesText::new(server))?;
                xml::text_element(w, "ServerType", "win32")?;
                xml::text_element(w, "ConnectionType", "tcp")?;
                xml::text_element(w, "ClientType", "ica30")?;
                xml::text_element(w, "TicketTag", &format!("IMAHostId:{host_id}"))?;
                w.create_element("CGPAddress")
                    .with_attribute(("addresstype", "port"))
                    .write_text_content(BytesText::new("2598"))?;
                if disconnected {
                    w.create_element("DisconnectedSession").write_empty()?;
                }
                Ok(())
            })
            .map(|_| ())
    })
}

fn ticket_document(pre_xd7: bool, ticket: &str) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element("ResponseTicket")
            .write_inner_content(|w| xml::text_element(w, "Ticket", ticket))
            .map(|_| ())
    })
}

/// What the framing of a request said, before its body is looked at.
struct Framing {
    method: Method,
    path_ok: bool,
    content_length: Option<usize>,
    chunked: bool,
}

impl Framing {
    fn of(method: &Method, path: &str, headers: &HeaderMap) -> Framing {
        let content_length = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let chunked = headers
            .get_all(header::TRANSFER_ENCODING)
            .iter()
            .any(|v| v.as_bytes().to_ascii_lowercase().ends_with(b"chunked"));
        Framing {
            method: method.clone(),
            path_ok: path.eq_ignore_ascii_case(PATH),
            content_length,
            chunked,
        }
    }
}

/// The Pingora app serving one [`FarmSim`].
pub struct FarmApp {
    sim: Arc<FarmSim>,
}

impl FarmApp {
    pub fn new(sim: Arc<FarmSim>) -> FarmApp {
        FarmApp { sim }
    }

    /// The answer to one request; `None` closes the connection without one.
    async fn handle(&self, session: &mut ServerSession) -> Option<Answer> {
        let req = session.req_header();
        let framing = Framing::of(&req.method, req.uri.path(), &req.headers);
        let ReadBody {
            kept: body,
            seen,
            complete,
        } = read_body(session, MAX_RECORDED_BODY, MAX_DRAIN).await;
        if !complete {
            // The rest of the body is still on the wire (or the wire is gone): do not reuse.
            session.set_keepalive(None);
        }
        let parsed = parse(&body);
        self.sim.record_request(FarmRequest {
            kind: parsed.as_ref().map(|r| r.kind.clone()).unwrap_or_default(),
            body: body.clone(),
            content_length: framing.content_length,
            chunked: framing.chunked,
        });
        let (delay, fault, trust) = {
            let inner = self.sim.lock();
            (inner.delay, inner.fault.clone(), inner.trust_xml)
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let pre_xd7 = self.sim.config.pre_xd7;
        let kind = parsed.as_ref().map(|r| r.kind.as_str()).unwrap_or_default();
        match fault {
            Some(FarmFault::Close) => return None,
            Some(FarmFault::Status(code)) => return Some(Answer::text(code, "simulated fault")),
            Some(FarmFault::GarbageBody) => {
                return Some(Answer::xml(
                    b"<?xml version=\"1.0\"?>\r\n<NFuseProtocol version=\"5.2\"><Response&bogus;</ErrorId>"
                        .to_vec(),
                ))
            }
            Some(FarmFault::ErrorId(id)) => {
                return Some(Answer::xml(error_document(pre_xd7, kind, &id)))
            }
            None => {}
        }
        if !framing.path_ok {
            return Some(Answer::text(404, "404 Not Found"));
        }
        if framing.method != Method::POST {
            return Some(Answer::text(405, "405 Method Not Allowed"));
        }
        // [I] The XML service is documented with Content-Length bodies only (every capture);
        // a chunked or unframed body is refused as IIS refuses what it cannot size.
        if framing.chunked || framing.content_length.is_none() {
            session.set_keepalive(None);
            return Some(Answer::text(411, "411 Length Required"));
        }
        let limit = self.sim.config.max_request_bytes;
        if framing.content_length.is_some_and(|n| n > limit) || seen > limit {
            return Some(Answer::text(400, "400 Request Too Large"));
        }
        let Ok(request) = parsed else {
            return Some(Answer::xml(error_document(pre_xd7, "", "unspecified")));
        };
        Some(Answer::xml(self.dispatch(&request, trust)))
    }

    /// Answer a readable NFuse request (always HTTP 200; errors are `ErrorId`s).
    fn dispatch(&self, req: &NfuseRequest, trust: bool) -> Vec<u8> {
        let config = &self.sim.config;
        let pre_xd7 = config.pre_xd7;
        let kind = req.kind.as_str();
        let user_request = matches!(
            kind,
            "RequestReconnectSessionData"
                | "RequestDisconnectUserSessions"
                | "RequestLogoffUserSessions"
                | "RequestAddress"
                | "RequestTicket"
        );
        if kind == "RequestServerFarmData" {
            return farm_data_document(pre_xd7, &config.name);
        }
        if !user_request {
            return error_document(pre_xd7, kind, "unspecified");
        }
        let user = match &req.credentials {
            Credentials::Identity(sam) if trust => sam.as_str(),
            Credentials::Identity(_) => return error_document(pre_xd7, kind, "not-trusted"),
            Credentials::Missing | Credentials::Password | Credentials::Nobody => {
                return error_document(pre_xd7, kind, "failed-credentials")
            }
        };
        let client = req.client();
        let mut inner = self.sim.lock();
        match kind {
            "RequestReconnectSessionData" => {
                let asked = |t: &str| req.session_types.iter().any(|s| s.eq_ignore_ascii_case(t));
                let active = asked("active");
                // None given: disconnected sessions only (Extentrix asks for just those).
                let disconnected = req.session_types.is_empty() || asked("disconnected");
                let listed =
                    inner
                        .farm
                        .reconnect_data(user, &client, active, disconnected, pre_xd7);
                drop(inner);
                reconnect_data_document(pre_xd7, &listed)
            }
            "RequestDisconnectUserSessions" => {
                inner.farm.disconnect(user, &client);
                drop(inner);
                empty_document(pre_xd7, kind)
            }
            "RequestLogoffUserSessions" => {
                inner.farm.logoff(user, &client);
                drop(inner);
                empty_document(pre_xd7, kind)
            }
            "RequestAddress" => {
                let found = match &req.name {
                    Some(AddressName::Session {
                        in_name,
                        host_id,
                        session_id,
                    }) => match (host_id.parse(), session_id.parse()) {
                        (Ok(h), Ok(s)) => inner
                            .farm
                            .address(user, in_name, h, s, &client)
                            .map(|a| (a.host_id, a.was_disconnected)),
                        _ => None,
                    },
                    // [I] A new launch: the session only exists once the ICA client logs on
                    // with the ticket, which is outside the simulation; the state is unchanged.
                    Some(AddressName::App(app)) if !app.is_empty() => {
                        Some((inner.farm.host_of(app), false))
                    }
                    Some(AddressName::App(_)) | Some(AddressName::Other) | None => None,
                };
                drop(inner);
                match found {
                    Some((host_id, disconnected)) => {
                        address_document(pre_xd7, &config.server_address, host_id, disconnected)
                    }
                    None => error_document(pre_xd7, kind, "no-server"),
                }
            }
            _ => {
                let ticket = inner.farm.issue_ticket();
                drop(inner);
                ticket_document(pre_xd7, &ticket)
            }
        }
    }
}

/// Write `answer` with exact framing; `false` when the client is gone.
async fn write_answer(session: &mut ServerSession, answer: Answer) -> bool {
    let Ok(mut head) = ResponseHeader::build(answer.status, Some(4)) else {
        return false;
    };
    let headers = [
        ("Server", Cow::Borrowed(SERVER)),
        ("Content-Type", Cow::Borrowed(answer.content_type)),
        ("Content-Length", Cow::Owned(answer.body.len().to_string())),
    ];
    for (name, value) in headers {
        if head.insert_header(name, value.as_ref()).is_err() {
            return false;
        }
    }
    if session.write_response_header(Box::new(head)).await.is_err() {
        return false;
    }
    if !answer.body.is_empty()
        && session
            .write_response_body(answer.body.into(), true)
            .await
            .is_err()
    {
        return false;
    }
    true
}

#[async_trait]
impl HttpServerApp for FarmApp {
    async fn process_new_http(
        self: &Arc<Self>,
        mut session: ServerSession,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        if !matches!(session.read_request().await, Ok(true)) {
            return None;
        }
        session.set_keepalive(if *shutdown.borrow() { None } else { Some(60) });
        // `None`: the fault says to drop the connection without a word.
        let answer = self.handle(&mut session).await?;
        if !write_answer(&mut session, answer).await {
            return None;
        }
        let settings = HttpPersistentSettings::for_session(&session);
        match session.finish().await {
            Ok(reusable) => reusable.map(|s| ReusedHttpStream::from_reusable_stream(s, settings)),
            Err(_) => None,
        }
    }
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

    #[test]
    fn envelope_and_encoding() {
        let doc = farm_data_document(false, "Farm\u{2014}");
        let text = String::from_utf8(doc).unwrap();
        assert!(text.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!DOCTYPE NFuseProtocol SYSTEM \"NFuse.dtd\">\r\n<NFuseProtocol version=\"5.2\">"
        ));
        assert!(text.contains("<ServerFarmName>Farm\u{2014}</ServerFarmName>"));
        let doc = farm_data_document(true, "Soci\u{e9}t\u{e9}\u{2014}");
        assert!(doc.starts_with(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\r\n"));
        let needle = b"<ServerFarmName>Soci\xe9t\xe9&#8212;</ServerFarmName>";
        assert!(doc.windows(needle.len()).any(|w| w == needle));
        assert!(String::from_utf8(doc).is_err());
    }

    #[test]
    fn response_names() {
        assert_eq!(response_name("RequestAddress"), "ResponseAddress");
        assert_eq!(response_name(""), GENERIC_RESPONSE);
        assert_eq!(
            response_name(&format!("Request{}", "x".repeat(80))),
            GENERIC_RESPONSE
        );
    }
}
