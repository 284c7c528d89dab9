//! The HTTP side of the simulated farm: the Pingora app (an [`HttpServerApp`] rather than a
//! `ServeHttp`, so that a fault can close the connection without answering), the framing checks
//! of the XML service's own HTTP server, and the answer to each request type ([`request`] reads
//! requests, [`documents`] writes answers).
//!
//! [`HttpServerApp`]: pingora::apps::HttpServerApp
//! [`request`]: super::request
//! [`documents`]: super::documents

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use http::{header, HeaderMap, Method};
use pingora::apps::{HttpPersistentSettings, HttpServerApp, ReusedHttpStream};
use pingora::http::ResponseHeader;
use pingora::protocols::http::ServerSession;
use pingora::server::ShutdownWatch;

use super::catalog::{app_data_document, capabilities_document, server_data_document};
use super::documents::{
    address_document, empty_document, error_document, farm_data_document, reconnect_data_document,
    ticket_document,
};
use super::request::{parse, AddressName, Credentials, NfuseRequest};
use super::{FarmFault, FarmRequest, FarmSim};
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
                | "RequestValidateCredentials"
        );
        if let Some(answer) = self.reconnaissance(req, trust) {
            return answer;
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
        match kind {
            "RequestReconnectSessionData" => self.reconnect_data(req, user),
            "RequestDisconnectUserSessions" | "RequestLogoffUserSessions" => {
                let client = req.client();
                let mut inner = self.sim.lock();
                if kind == "RequestLogoffUserSessions" {
                    inner.farm.logoff(user, &client);
                } else {
                    inner.farm.disconnect(user, &client);
                }
                drop(inner);
                empty_document(pre_xd7, kind)
            }
            "RequestAddress" => self.address(req, user),
            "RequestValidateCredentials" => empty_document(pre_xd7, kind),
            _ => {
                let ticket = self.sim.lock().farm.issue_ticket();
                ticket_document(pre_xd7, &ticket)
            }
        }
    }

    /// The requests about the farm rather than a user; `None` for the others. Like a Presentation
    /// Server 4.5 XML service, `RequestAppData` without credentials lists every application
    /// (with ACLs when asked); with credentials, only a trusted identity gets the list.
    fn reconnaissance(&self, req: &NfuseRequest, trust: bool) -> Option<Vec<u8>> {
        let config = &self.sim.config;
        let pre_xd7 = config.pre_xd7;
        match req.kind.as_str() {
            "RequestServerFarmData" => Some(farm_data_document(pre_xd7, &config.name)),
            "RequestCapabilities" => Some(capabilities_document(pre_xd7)),
            "RequestServerData" => {
                let hosts = self.sim.lock().farm.apps().len().max(1);
                let servers: Vec<String> = (1..=hosts)
                    .map(|i| format!("{}-{i:02}", config.name))
                    .collect();
                Some(server_data_document(pre_xd7, &servers))
            }
            "RequestAppData" => Some(match &req.credentials {
                Credentials::Identity(_) if !trust => {
                    error_document(pre_xd7, &req.kind, "not-trusted")
                }
                Credentials::Password => error_document(pre_xd7, &req.kind, "failed-credentials"),
                _ => {
                    let apps = self.sim.lock().farm.apps().to_vec();
                    app_data_document(pre_xd7, &apps, req.access_list)
                }
            }),
            _ => None,
        }
    }

    /// `RequestReconnectSessionData`: the user's sessions of the asked types (on a pre-XD7 farm,
    /// asking for active ones disconnects them).
    fn reconnect_data(&self, req: &NfuseRequest, user: &str) -> Vec<u8> {
        let pre_xd7 = self.sim.config.pre_xd7;
        let asked = |t: &str| req.session_types.iter().any(|s| s.eq_ignore_ascii_case(t));
        let active = asked("active");
        // None given: disconnected sessions only (Extentrix asks for just those).
        let disconnected = req.session_types.is_empty() || asked("disconnected");
        let listed =
            self.sim
                .lock()
                .farm
                .reconnect_data(user, &req.client(), active, disconnected, pre_xd7);
        reconnect_data_document(pre_xd7, &listed)
    }

    /// `RequestAddress`: the server of a named session (reconnect) or of an application.
    fn address(&self, req: &NfuseRequest, user: &str) -> Vec<u8> {
        let config = &self.sim.config;
        let client = req.client();
        let mut inner = self.sim.lock();
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
            // [I] A new launch: the session only exists once the ICA client logs on with the
            // ticket, which is outside the simulation; the state is unchanged.
            Some(AddressName::App(app)) if !app.is_empty() => {
                Some((inner.farm.host_of(app), false))
            }
            Some(AddressName::App(_)) | Some(AddressName::Other) | None => None,
        };
        drop(inner);
        match found {
            Some((host_id, disconnected)) => address_document(
                config.pre_xd7,
                &config.server_address,
                host_id,
                disconnected,
            ),
            None => error_document(config.pre_xd7, &req.kind, "no-server"),
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
