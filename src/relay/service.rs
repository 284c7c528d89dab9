//! The relay's Pingora app: one HTTP/1.1 request at a time on a connection kept alive between
//! them (the client limits of [`crate::proxy::connection`] wrap it, as they wrap the proxy).
//!
//! Per request, in order: path (`/scripts/wpnbr.dll`, any case) else 404; `POST` else 405;
//! `Content-Length` required (411; brokers require it); over the size cap 413; `100 Continue`
//! if asked for; the body read within the clients' body deadline; unreadable, or carrying forbidden markup, 400; then the
//! [`policy`](super::policy) and the [`throttle`](super::throttle) decide, and refusals are
//! answered as NFuse errors (HTTP 200, `ErrorId`); the rest is [`forward`](super::forward)ed and
//! the broker's status, `Content-Type` and body go back as they came.
//!
//! Only the source address of the connection counts (no `X-Forwarded-For`): the relay is meant
//! to be reached by StoreFront servers directly. Nothing of a body (passwords, ctx1 blobs,
//! tickets) is ever logged.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use http::{header, Method};
use pingora::apps::{HttpPersistentSettings, HttpServerApp, ReusedHttpStream};
use pingora::http::ResponseHeader;
use pingora::protocols::http::ServerSession;
use pingora::server::ShutdownWatch;

use super::forward::forward;
use super::policy::{decide, Decision, Relay};
use super::throttle::{Attempt, Throttle};
use crate::backend::exchange::{HttpClient, UpstreamError};
use crate::backend::farm::FarmMember;
use crate::backend::pool::Pool;
use crate::config::{Cidr, XmlRelay};
use crate::metrics::{self, RelayLabels, RelayOutcome, RelaySource, SafeguardAction};
use crate::protocol::nfuse::{self, CredentialForm, ErrorId, Inbound, RequestType};
use crate::proxy::connection::header_parsed;

/// Largest body drained after refusing it as too large, so the answer reaches the client
/// (closing a socket with unread data makes the kernel reset it); larger ones are cut off.
const MAX_DRAIN_BYTES: usize = 1024 * 1024;

/// The relay of one farm.
pub struct RelayApp {
    member: FarmMember,
    trusted: Vec<Cidr>,
    max_request_bytes: usize,
    body_timeout: Duration,
    throttle: Mutex<Throttle>,
    http: HttpClient,
}

/// What `/readyz` asks of a relay: does its farm have a broker up?
#[derive(Clone)]
pub struct RelayHealth {
    pub farm: String,
    pub pool: Pool,
}

/// One answer, with what it counts as.
struct Answer {
    status: u16,
    content_type: String,
    body: Bytes,
    outcome: RelayOutcome,
}

impl Answer {
    fn text(status: u16, outcome: RelayOutcome, message: &str) -> Answer {
        Answer {
            status,
            content_type: "text/plain; charset=utf-8".into(),
            body: Bytes::from(format!("{message}\n")),
            outcome,
        }
    }

    /// The NFuse way to say no: HTTP 200 and the matching `Response*` with an `ErrorId`.
    fn refusal(request: RequestType, id: ErrorId, outcome: RelayOutcome) -> Answer {
        Answer {
            status: 200,
            content_type: nfuse::CONTENT_TYPE.into(),
            body: Bytes::from(nfuse::refusal(request, id)),
            outcome,
        }
    }
}

impl RelayApp {
    /// The relay of `config` in front of `member`; bodies must arrive within `body_timeout`.
    pub fn new(config: &XmlRelay, member: FarmMember, body_timeout: Duration) -> RelayApp {
        RelayApp {
            member,
            trusted: config.trusted_networks.clone(),
            max_request_bytes: config.max_request_bytes,
            body_timeout,
            throttle: Mutex::new(Throttle::new(&config.throttle)),
            http: HttpClient::default(),
        }
    }

    fn source(&self, ip: Option<IpAddr>) -> RelaySource {
        match ip {
            Some(ip) if self.trusted.iter().any(|c| c.contains(ip)) => RelaySource::Trusted,
            _ => RelaySource::Untrusted,
        }
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        // A panic elsewhere must not turn the throttle off for good.
        self.throttle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Framing checks, then the body, then the NFuse request.
    async fn handle(
        &self,
        session: &mut ServerSession,
        ip: Option<IpAddr>,
    ) -> (Answer, &'static str) {
        let unknown = "unknown";
        let body = match self.body(session).await {
            Ok(body) => body,
            Err(answer) => return (answer, unknown),
        };
        let inbound = match nfuse::parse_inbound(&body) {
            Ok(inbound) => inbound,
            Err(e) => {
                let outcome = if e.is_forbidden_markup() {
                    RelayOutcome::ForbiddenMarkup
                } else {
                    RelayOutcome::Invalid
                };
                tracing::info!(farm = %self.member.farm.name, source = ?ip, error = %e, "relay refused an unreadable request");
                return (Answer::text(400, outcome, &e.to_string()), unknown);
            }
        };
        let label = inbound.request.label();
        (self.decide(&inbound, body, ip).await, label)
    }

    /// Path, method, framing and size; then the body, read whole within the deadline.
    async fn body(&self, session: &mut ServerSession) -> Result<Bytes, Answer> {
        let length = match framing(session) {
            Ok(length) => length,
            Err(answer) => {
                // Without a length the rest of the request cannot be found on the connection.
                if answer.status == 411 {
                    session.set_keepalive(None);
                }
                return Err(answer);
            }
        };
        if length > self.max_request_bytes {
            self.drain(session, length).await;
            let msg = format!("413 the request is over {} bytes", self.max_request_bytes);
            return Err(Answer::text(413, RelayOutcome::TooLarge, &msg));
        }
        // StoreFront (.NET) asks for `100 Continue` and waits for it before sending the body,
        // as the XML service answers it.
        if expects_continue(session) && !write_continue(session).await {
            return Err(Answer::text(400, RelayOutcome::Invalid, "400 client gone"));
        }
        match pingora::time::timeout(self.body_timeout, read_capped(session, length)).await {
            Ok(Some(body)) => Ok(body),
            _ => {
                session.set_keepalive(None);
                Err(Answer::text(
                    400,
                    RelayOutcome::Invalid,
                    "400 incomplete body",
                ))
            }
        }
    }

    /// Read and drop a refused body that is small enough; otherwise close after answering.
    async fn drain(&self, session: &mut ServerSession, length: usize) {
        let drained = length <= MAX_DRAIN_BYTES
            && pingora::time::timeout(self.body_timeout, session.drain_request_body())
                .await
                .is_ok_and(|r| r.is_ok());
        if !drained {
            session.set_keepalive(None);
        }
    }

    /// The allow-list, the safeguard and the throttle; then the farm.
    async fn decide(&self, inbound: &Inbound, body: Bytes, ip: Option<IpAddr>) -> Answer {
        let farm = &self.member.farm;
        let source = self.source(ip);
        let trusted = source == RelaySource::Trusted;
        let relay = match decide(inbound, trusted, farm) {
            Decision::Refuse(why) => {
                tracing::info!(farm = %farm.name, source = ?ip, request = inbound.request.label(), reason = why.as_str(), "relay refused an untrusted request");
                return Answer::refusal(
                    inbound.request,
                    ErrorId::NotTrusted,
                    RelayOutcome::NotTrusted,
                );
            }
            Decision::RefuseActive => {
                metrics::relay_active_session_query(&farm.name, SafeguardAction::Refused);
                return Answer::refusal(
                    inbound.request,
                    ErrorId::NotTrusted,
                    RelayOutcome::SafeguardRefused,
                );
            }
            Decision::Relay(relay) => relay,
        };
        let attempt = match (&inbound.credentials, ip) {
            (CredentialForm::Password { user }, Some(source)) => Some(Attempt {
                user,
                source,
                trusted,
            }),
            _ => None,
        };
        match attempt {
            Some(a) => self.logon(inbound, body, relay, &a).await,
            None => self.relay(inbound, body, relay).await,
        }
    }

    /// A password logon: refused while its user or source is throttled, else relayed; a
    /// `failed-credentials` answer counts against both.
    async fn logon(&self, inbound: &Inbound, body: Bytes, relay: Relay, a: &Attempt<'_>) -> Answer {
        if self.throttle().refuses(a, Instant::now()) {
            let farm = &self.member.farm.name;
            tracing::warn!(farm = %farm, source = %a.source, "relay throttled a password logon");
            let (request, outcome) = (inbound.request, RelayOutcome::Throttled);
            return Answer::refusal(request, ErrorId::FailedCredentials, outcome);
        }
        let answer = self.relay(inbound, body, relay).await;
        if answer.outcome == RelayOutcome::Relayed
            && nfuse::error_id_of(&answer.body) == Some(ErrorId::FailedCredentials)
        {
            self.throttle().failed(a, Instant::now());
        }
        answer
    }

    /// Send the request (or the safeguard's rewrite of it) and pass the answer on.
    async fn relay(&self, inbound: &Inbound, body: Bytes, relay: Relay) -> Answer {
        let farm = &self.member.farm;
        if let Some(action) = relay.safeguard {
            metrics::relay_active_session_query(&farm.name, action);
        }
        let body = if relay.only_disconnected {
            match nfuse::only_disconnected(&body) {
                Ok(rewritten) => Bytes::from(rewritten),
                Err(e) => return Answer::text(400, RelayOutcome::Invalid, &e.to_string()),
            }
        } else {
            body
        };
        match forward(&self.http, &self.member, body, relay.read_only).await {
            Ok(ex) => Answer {
                status: ex.header.status.as_u16(),
                content_type: ex
                    .header
                    .headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(nfuse::CONTENT_TYPE)
                    .to_string(),
                body: ex.body,
                outcome: RelayOutcome::Relayed,
            },
            Err(e) => {
                tracing::warn!(farm = %farm.name, request = inbound.request.label(), error = %e, "relay got no answer from the farm");
                let status = match e {
                    UpstreamError::NoBackend => 503,
                    UpstreamError::Timeout | UpstreamError::ConnectTimeout => 504,
                    _ => 502,
                };
                Answer::text(status, RelayOutcome::UpstreamFailed, &e.to_string())
            }
        }
    }
}

/// The request's body length, once its path, method and framing are the XML service's.
fn framing(session: &ServerSession) -> Result<usize, Answer> {
    let req = session.req_header();
    if !req.uri.path().eq_ignore_ascii_case(nfuse::PATH) {
        return Err(Answer::text(404, RelayOutcome::BadHttp, "404 not found"));
    }
    if req.method != Method::POST {
        let msg = "405 method not allowed: POST";
        return Err(Answer::text(405, RelayOutcome::BadHttp, msg));
    }
    let chunked = req.headers.contains_key(header::TRANSFER_ENCODING);
    let length = req
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    length
        .filter(|_| !chunked)
        .ok_or_else(|| Answer::text(411, RelayOutcome::BadHttp, "411 Content-Length required"))
}

/// Did the client send `Expect: 100-continue`?
fn expects_continue(session: &ServerSession) -> bool {
    session
        .req_header()
        .headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// Write `100 Continue` without giving up keep-alive: Pingora marks a connection for closing
/// when any answer is written before the body was read, the interim one included, but the body
/// is read to its end right after this.
async fn write_continue(session: &mut ServerSession) -> bool {
    session.set_close_on_response_before_downstream_finish(false);
    let written = session.write_continue_response().await.is_ok();
    session.set_close_on_response_before_downstream_finish(true);
    if !written {
        session.set_keepalive(None);
    }
    written
}

/// The body, which must be exactly `length` bytes; `None` if it is not.
async fn read_capped(session: &mut ServerSession, length: usize) -> Option<Bytes> {
    let mut buf = BytesMut::with_capacity(length);
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) if buf.len() + chunk.len() <= length => buf.extend_from_slice(&chunk),
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) => return (buf.len() == length).then(|| buf.freeze()),
        }
    }
}

/// The access line of one relay request: only what is safe in a log line, never a header, the
/// query or a body.
fn log_access(
    session: &ServerSession,
    labels: RelayLabels<'_>,
    ip: Option<IpAddr>,
    answer: &Answer,
    started: Instant,
) {
    let req = session.req_header();
    tracing::info!(
        target: crate::logging::access::TARGET,
        client = %ip.map(|ip| ip.to_string()).unwrap_or_default(),
        method = %req.method,
        path = %req.uri.path(),
        relay = labels.farm,
        request = labels.request,
        source = labels.source.as_str(),
        status = answer.status,
        outcome = answer.outcome.as_str(),
        duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    );
}

/// Write `answer` with exact framing; `false` when the client is gone.
async fn write_answer(session: &mut ServerSession, answer: &Answer) -> bool {
    let Ok(mut head) = ResponseHeader::build(answer.status, Some(4)) else {
        return false;
    };
    let length = answer.body.len().to_string();
    let mut headers = vec![
        ("Content-Type", answer.content_type.as_str()),
        ("Content-Length", length.as_str()),
    ];
    if answer.status == 405 {
        headers.push(("Allow", "POST"));
    }
    if headers
        .into_iter()
        .any(|(name, value)| head.insert_header(name, value).is_err())
    {
        return false;
    }
    if session.write_response_header(Box::new(head)).await.is_err() {
        return false;
    }
    answer.body.is_empty()
        || session
            .write_response_body(answer.body.clone(), true)
            .await
            .is_ok()
}

#[async_trait]
impl HttpServerApp for RelayApp {
    async fn process_new_http(
        self: &Arc<Self>,
        mut session: ServerSession,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        if !matches!(session.read_request().await, Ok(true)) {
            return None;
        }
        // The connection loop's header deadline ends here.
        if let Some(context) = session.take_connection_user_context() {
            header_parsed(context);
        }
        if *shutdown.borrow() {
            session.set_keepalive(None);
        }
        let started = Instant::now();
        let ip = session
            .client_addr()
            .and_then(|a| a.as_inet())
            .map(|a| a.ip());
        let app: &RelayApp = self;
        let (answer, request) = app.handle(&mut session, ip).await;
        let labels = RelayLabels {
            farm: &app.member.farm.name,
            request,
            source: app.source(ip),
        };
        metrics::relay_request(labels, answer.outcome, started.elapsed());
        log_access(&session, labels, ip, &answer, started);
        if !write_answer(&mut session, &answer).await {
            return None;
        }
        let settings = HttpPersistentSettings::for_session(&session);
        match session.finish().await {
            Ok(reusable) => reusable.map(|s| ReusedHttpStream::from_reusable_stream(s, settings)),
            Err(_) => None,
        }
    }
}
