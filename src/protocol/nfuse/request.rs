//! Writing the requests the gateway sends to an XML broker (citrix-protocols.md §1.2–§1.6).
//!
//! Every request is `<?xml ... encoding="UTF-8"?>`, the `NFuse.dtd` DOCTYPE and
//! `<NFuseProtocol version="5.0">` around exactly one `Request*` element, written with quick-xml
//! (values escaped) and no indentation. Element orders follow the Web Interface captures.

use std::io;
use std::net::Ipv4Addr;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::{ClientId, Credentials, SessionName, MAX_REQUEST_BYTES, VERSION};
use crate::protocol::xml::{text_element, XmlWriter};

/// Why a request was not written.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The document is larger than a broker accepts by default (long SID lists do this).
    #[error("the request is {size} bytes, over the broker limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    /// A value holds control characters; names the field.
    #[error("the {0} holds control characters")]
    InvalidText(&'static str),
}

/// The request types the gateway sends; also metric labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    ReconnectSessionData,
    DisconnectUserSessions,
    LogoffUserSessions,
    Address,
    Ticket,
    ServerFarmData,
}

impl RequestKind {
    pub const ALL: [RequestKind; 6] = [
        RequestKind::ReconnectSessionData,
        RequestKind::DisconnectUserSessions,
        RequestKind::LogoffUserSessions,
        RequestKind::Address,
        RequestKind::Ticket,
        RequestKind::ServerFarmData,
    ];

    /// Metric label.
    pub fn label(self) -> &'static str {
        match self {
            RequestKind::ReconnectSessionData => "reconnect_session_data",
            RequestKind::DisconnectUserSessions => "disconnect_user_sessions",
            RequestKind::LogoffUserSessions => "logoff_user_sessions",
            RequestKind::Address => "address",
            RequestKind::Ticket => "ticket",
            RequestKind::ServerFarmData => "server_farm_data",
        }
    }

    /// The request element.
    pub fn element(self) -> &'static str {
        match self {
            RequestKind::ReconnectSessionData => "RequestReconnectSessionData",
            RequestKind::DisconnectUserSessions => "RequestDisconnectUserSessions",
            RequestKind::LogoffUserSessions => "RequestLogoffUserSessions",
            RequestKind::Address => "RequestAddress",
            RequestKind::Ticket => "RequestTicket",
            RequestKind::ServerFarmData => "RequestServerFarmData",
        }
    }

    /// The element the broker answers with.
    pub fn response_element(self) -> &'static str {
        match self {
            RequestKind::ReconnectSessionData => "ResponseReconnectSessionData",
            RequestKind::DisconnectUserSessions => "ResponseDisconnectUserSessions",
            RequestKind::LogoffUserSessions => "ResponseLogoffUserSessions",
            RequestKind::Address => "ResponseAddress",
            RequestKind::Ticket => "ResponseTicket",
            RequestKind::ServerFarmData => "ResponseServerFarmData",
        }
    }
}

/// One request, borrowing its values.
pub enum Request<'a> {
    /// The user's sessions from this client (workspace control), optionally filtered by state.
    ReconnectSessionData {
        credentials: &'a Credentials,
        client: &'a ClientId,
        active: bool,
        disconnected: bool,
    },
    /// Disconnect every session of the user from this client.
    DisconnectUserSessions {
        credentials: &'a Credentials,
        client: &'a ClientId,
    },
    /// Log off every session of the user from this client.
    LogoffUserSessions {
        credentials: &'a Credentials,
        client: &'a ClientId,
    },
    /// The server address of an existing session (the reconnect form of `RequestAddress`).
    Address {
        credentials: &'a Credentials,
        client_name: &'a str,
        device_id: Option<&'a str>,
        client_address: Option<&'a str>,
        session: &'a SessionName,
    },
    /// A logon ticket for the `TicketTag` a `ResponseAddress` gave.
    Ticket {
        credentials: &'a Credentials,
        ticket_tag: &'a str,
        time_to_live_seconds: u32,
    },
    /// The farm name (unauthenticated).
    ServerFarmData,
}

impl<'a> Request<'a> {
    /// The credentials the request carries (all but `ServerFarmData`).
    pub fn credentials(&self) -> Option<&'a Credentials> {
        match self {
            Request::ReconnectSessionData { credentials, .. }
            | Request::DisconnectUserSessions { credentials, .. }
            | Request::LogoffUserSessions { credentials, .. }
            | Request::Address { credentials, .. }
            | Request::Ticket { credentials, .. } => Some(credentials),
            Request::ServerFarmData => None,
        }
    }

    /// The same request with `credentials` instead (e.g. without the SIDs, when they would take
    /// it over the brokers' size limit).
    pub fn with_credentials<'b>(&self, credentials: &'b Credentials) -> Request<'b>
    where
        'a: 'b,
    {
        match *self {
            Request::ReconnectSessionData {
                client,
                active,
                disconnected,
                ..
            } => Request::ReconnectSessionData {
                credentials,
                client,
                active,
                disconnected,
            },
            Request::DisconnectUserSessions { client, .. } => Request::DisconnectUserSessions {
                credentials,
                client,
            },
            Request::LogoffUserSessions { client, .. } => Request::LogoffUserSessions {
                credentials,
                client,
            },
            Request::Address {
                client_name,
                device_id,
                client_address,
                session,
                ..
            } => Request::Address {
                credentials,
                client_name,
                device_id,
                client_address,
                session,
            },
            Request::Ticket {
                ticket_tag,
                time_to_live_seconds,
                ..
            } => Request::Ticket {
                credentials,
                ticket_tag,
                time_to_live_seconds,
            },
            Request::ServerFarmData => Request::ServerFarmData,
        }
    }

    pub fn kind(&self) -> RequestKind {
        match self {
            Request::ReconnectSessionData { .. } => RequestKind::ReconnectSessionData,
            Request::DisconnectUserSessions { .. } => RequestKind::DisconnectUserSessions,
            Request::LogoffUserSessions { .. } => RequestKind::LogoffUserSessions,
            Request::Address { .. } => RequestKind::Address,
            Request::Ticket { .. } => RequestKind::Ticket,
            Request::ServerFarmData => RequestKind::ServerFarmData,
        }
    }

    /// The whole request body; its length is the exact `Content-Length` to send.
    pub fn to_xml(&self) -> Result<Vec<u8>, RequestError> {
        self.check()?;
        let mut w = Writer::new(Vec::with_capacity(1024));
        let written = write_document(&mut w, self);
        // Writing into a Vec cannot fail; `Write` is only generic.
        debug_assert!(written.is_ok());
        let body = w.into_inner();
        if body.len() > MAX_REQUEST_BYTES {
            return Err(RequestError::TooLarge {
                size: body.len(),
                limit: MAX_REQUEST_BYTES,
            });
        }
        Ok(body)
    }

    /// Refuse control characters (CR, LF, tab, NUL, DEL, C1) in every value: none is
    /// legitimate in a name or id, and a CR/LF could end up in an ICA file or a log line.
    fn check(&self) -> Result<(), RequestError> {
        if let Some(credentials) = self.credentials() {
            clean(&credentials.sam, "SAM name")?;
            credentials.sids.iter().try_for_each(|s| clean(s, "SID"))?;
        }
        match self {
            Request::ReconnectSessionData { client, .. }
            | Request::DisconnectUserSessions { client, .. }
            | Request::LogoffUserSessions { client, .. } => match client {
                ClientId::Name(n) => clean(n, "client name"),
                ClientId::Device(d) => clean(d, "device id"),
            },
            Request::Address {
                client_name,
                device_id,
                client_address,
                session,
                ..
            } => {
                clean(client_name, "client name")?;
                clean(device_id.unwrap_or_default(), "device id")?;
                clean(client_address.unwrap_or_default(), "client address")?;
                clean(&session.in_name, "session name")?;
                clean(&session.host_id, "host id")?;
                clean(&session.host_id_type, "host id type")?;
                clean(&session.session_id, "session id")
            }
            Request::Ticket { ticket_tag, .. } => clean(ticket_tag, "ticket tag"),
            Request::ServerFarmData => Ok(()),
        }
    }
}

fn clean(value: &str, what: &'static str) -> Result<(), RequestError> {
    if value.chars().any(char::is_control) {
        return Err(RequestError::InvalidText(what));
    }
    Ok(())
}

/// The declaration and the `NFuseProtocol` DOCTYPE every NFuse document starts with.
pub(super) fn write_prolog(w: &mut XmlWriter) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    // The prolog's line ends are markup, not text, so they are written as they are.
    w.write_event(Event::Text(BytesText::from_escaped("\r\n")))?;
    w.write_event(Event::DocType(BytesText::from_escaped(
        r#"NFuseProtocol SYSTEM "NFuse.dtd""#,
    )))?;
    w.write_event(Event::Text(BytesText::from_escaped("\r\n")))
}

fn write_document(w: &mut XmlWriter, request: &Request<'_>) -> io::Result<()> {
    write_prolog(w)?;
    w.create_element("NFuseProtocol")
        .with_attribute(("version", VERSION))
        .write_inner_content(|w| {
            w.create_element(request.kind().element())
                .write_inner_content(|w| write_body(w, request))
                .map(|_| ())
        })
        .map(|_| ())
}

fn write_body(w: &mut XmlWriter, request: &Request<'_>) -> io::Result<()> {
    match request {
        Request::ReconnectSessionData {
            credentials,
            client,
            active,
            disconnected,
        } => {
            write_credentials(w, credentials)?;
            write_client(w, client)?;
            write_types(w)?;
            if *active {
                text_element(w, "SessionType", "active")?;
            }
            if *disconnected {
                text_element(w, "SessionType", "disconnected")?;
            }
            Ok(())
        }
        Request::DisconnectUserSessions {
            credentials,
            client,
        }
        | Request::LogoffUserSessions {
            credentials,
            client,
        } => {
            write_credentials(w, credentials)?;
            write_client(w, client)?;
            write_types(w)
        }
        Request::Address {
            credentials,
            client_name,
            device_id,
            client_address,
            session,
        } => {
            w.create_element("Name").write_inner_content(|w| {
                w.create_element("SessionName")
                    .write_inner_content(|w| {
                        text_element(w, "InName", &session.in_name)?;
                        w.create_element("HostId")
                            .with_attribute(("type", session.host_id_type.as_str()))
                            .write_text_content(BytesText::new(&session.host_id))?;
                        text_element(w, "SessionId", &session.session_id)
                    })
                    .map(|_| ())
            })?;
            text_element(w, "ClientName", client_name)?;
            if let Some(device) = device_id {
                text_element(w, "DeviceId", device)?;
            }
            // Only a dotted IPv4 address fits `addresstype="dot"`; anything else is left out
            // rather than mislabelled.
            if let Some(ip) = client_address.and_then(|a| a.parse::<Ipv4Addr>().ok()) {
                w.create_element("ClientAddress")
                    .with_attribute(("addresstype", "dot"))
                    .write_text_content(BytesText::new(&ip.to_string()))?;
            }
            w.create_element("ServerAddress")
                .with_attribute(("addresstype", "dns-port"))
                .write_empty()?;
            write_credentials(w, credentials)?;
            text_element(w, "ClientType", "ica30")
        }
        Request::Ticket {
            credentials,
            ticket_tag,
            time_to_live_seconds,
        } => {
            write_credentials(w, credentials)?;
            text_element(w, "TicketType", "CtxLogon")?;
            text_element(w, "TicketTag", ticket_tag)?;
            text_element(w, "TimetoLive", &time_to_live_seconds.to_string())
        }
        Request::ServerFarmData => w.create_element("Nil").write_empty().map(|_| ()),
    }
}

/// The identity-only form: no password ever passes through the gateway.
fn write_credentials(w: &mut XmlWriter, c: &Credentials) -> io::Result<()> {
    w.create_element("Credentials")
        .write_inner_content(|w| {
            w.create_element("ID")
                .with_attribute(("type", "SAM"))
                .write_text_content(BytesText::new(&c.sam))?;
            for sid in &c.sids {
                w.create_element("ID")
                    .with_attribute(("type", "SID"))
                    .write_text_content(BytesText::new(sid))?;
            }
            Ok(())
        })
        .map(|_| ())
}

fn write_client(w: &mut XmlWriter, client: &ClientId) -> io::Result<()> {
    match client {
        ClientId::Name(n) => text_element(w, "ClientName", n),
        ClientId::Device(d) => text_element(w, "DeviceId", d),
    }
}

fn write_types(w: &mut XmlWriter) -> io::Result<()> {
    text_element(w, "ServerType", "all")?;
    text_element(w, "ClientType", "ica30")
}
