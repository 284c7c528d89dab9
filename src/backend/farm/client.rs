//! One NFuse request to one farm: written with exact `Content-Length`, sent to a healthy XML
//! broker, answered within the farm's time budget, parsed, counted.
//!
//! Failover between a farm's brokers: a request that could not be sent at all (no connection)
//! always moves on to the next broker. A request that was sent moves on only if it changes
//! nothing on the farm ([`read_only`]); `RequestDisconnectUserSessions`,
//! `RequestLogoffUserSessions`, `RequestTicket` and, on pre-XD7 farms, a session query that asks
//! for active sessions (it disconnects them) are never sent twice.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use pingora::http::RequestHeader;

use crate::backend::exchange::{Attempt, HttpClient, Replay, Target, UpstreamError};
use crate::backend::farm::FarmMember;
use crate::backend::pool::Pool;
use crate::backend::trust::Trust;
use crate::config::Farm;
use crate::metrics;
use crate::protocol::nfuse::{
    self, Credentials, FarmError, Request, RequestError, Response, ResponseError,
};

/// Why a farm gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FarmCallError {
    /// The request could not be written (over the brokers' 4 KB limit, or unusable text).
    #[error("the NFuse request cannot be sent: {0}")]
    Request(#[from] RequestError),
    #[error(transparent)]
    Upstream(UpstreamError),
    /// The broker answered with an HTTP status other than 200.
    #[error("the broker answered HTTP {0}")]
    Status(u16),
    /// The answer is not a readable NFuse response of the expected type.
    #[error("the broker's answer is unreadable: {0}")]
    Answer(ResponseError),
    /// The farm answered with an `ErrorId`.
    #[error("the farm answered {}", .0.raw)]
    Farm(FarmError),
}

impl FarmCallError {
    /// The `outcome` metric label.
    pub fn outcome(&self) -> &'static str {
        match self {
            FarmCallError::Request(_) => "request_invalid",
            FarmCallError::Upstream(u) => u.kind(),
            FarmCallError::Status(_) => "bad_status",
            FarmCallError::Answer(_) => "bad_answer",
            FarmCallError::Farm(_) => "farm_error",
        }
    }
}

/// Can this request be sent to a second broker after the first may have acted on it?
pub fn read_only(farm: &Farm, request: &Request<'_>) -> bool {
    match request {
        Request::ReconnectSessionData { active, .. } => !(*active && farm.pre_xd7),
        Request::Address { .. } | Request::ServerFarmData => true,
        Request::DisconnectUserSessions { .. }
        | Request::LogoffUserSessions { .. }
        | Request::Ticket { .. } => false,
    }
}

/// The request's bytes. A user in many groups can take a request over the brokers' 4 KB limit
/// with SIDs alone; the SAM name is enough for a broker that trusts the gateway (it looks the
/// groups up itself), so the request is then sent without the SIDs rather than not at all.
pub fn encode(farm: &Farm, request: &Request<'_>) -> Result<Vec<u8>, RequestError> {
    match (request.to_xml(), request.credentials()) {
        (Err(RequestError::TooLarge { size, .. }), Some(c)) if !c.sids.is_empty() => {
            tracing::info!(farm = %farm.name, size, sids = c.sids.len(), "request over the brokers' size limit with the user's SIDs: sent with the account name only");
            let bare = Credentials {
                sam: c.sam.clone(),
                sids: Vec::new(),
            };
            request.with_credentials(&bare).to_xml()
        }
        (result, _) => result,
    }
}

/// How the gateway talks to the brokers of `farm`, whose certificates chain to `trust` (the
/// system's roots when `None`).
pub fn target<'a>(farm: &'a Farm, trust: Option<&'a Trust>) -> Target<'a> {
    Target {
        tls: farm.tls,
        trust,
        host: farm.host.as_deref(),
        authority: None,
        connect_timeout: farm.connect_timeout,
        read_timeout: farm.timeout,
        max_response_bytes: farm.max_response_bytes,
    }
}

/// The HTTP request head of an NFuse call with a body of `len` bytes.
pub fn request_header(len: usize) -> Result<RequestHeader, FarmCallError> {
    let broken = |_| FarmCallError::Upstream(UpstreamError::Broken);
    let mut req = RequestHeader::build("POST", nfuse::PATH.as_bytes(), Some(3)).map_err(broken)?;
    req.insert_header("content-type", nfuse::CONTENT_TYPE)
        .map_err(broken)?;
    // Brokers may not take chunked bodies: the length is always given.
    req.insert_header("content-length", len).map_err(broken)?;
    Ok(req)
}

/// Sends NFuse requests to farms.
#[derive(Default)]
pub struct FarmClient {
    http: HttpClient,
}

impl FarmClient {
    /// Send `request` to a broker of `farm` (from `pool`) and parse the answer; the whole call,
    /// failover included, is bounded by the farm's connect timeout plus its answer timeout.
    pub async fn call(
        &self,
        store: &str,
        member: &FarmMember,
        request: &Request<'_>,
    ) -> Result<Response, FarmCallError> {
        let FarmMember { farm, pool, trust } = member;
        let started = Instant::now();
        let kind = request.kind();
        let budget = farm.connect_timeout + farm.timeout;
        // Boxed so the timeout does not move the large exchange future by value.
        let attempts = Box::pin(self.attempts(farm, pool, trust.as_ref(), request));
        let result = match pingora::time::timeout(budget, attempts).await {
            Ok(r) => r,
            Err(_) => Err(FarmCallError::Upstream(UpstreamError::Timeout)),
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.outcome(),
        };
        metrics::farm_request(store, &farm.name, kind.label(), outcome, started.elapsed());
        if let Err(e) = &result {
            tracing::warn!(store, farm = %farm.name, request = kind.label(), error = %e, "farm request failed");
        }
        result
    }

    async fn attempts(
        &self,
        farm: &Farm,
        pool: &Pool,
        trust: Option<&Trust>,
        request: &Request<'_>,
    ) -> Result<Response, FarmCallError> {
        let body = Bytes::from(encode(farm, request)?);
        let header = request_header(body.len())?;
        let target = target(farm, trust);
        let may_resend = read_only(farm, request);
        let replay = Replay::if_read_only(may_resend);
        let mut tried: Vec<SocketAddr> = Vec::new();
        let (mut timed_out, mut tls) = (false, false);
        let mut last: Option<FarmCallError> = None;
        while let Some(addr) = pool.select(&tried) {
            tried.push(addr);
            let failure = match self
                .http
                .exchange(&target, addr, &header, &body, replay)
                .await
            {
                Err(Attempt::NotConnected {
                    timed_out: t,
                    tls: s,
                }) => {
                    timed_out |= t;
                    tls |= s;
                    continue;
                }
                Err(Attempt::Failed(e)) => FarmCallError::Upstream(e),
                Ok(ex) if ex.header.status.as_u16() != 200 => {
                    FarmCallError::Status(ex.header.status.as_u16())
                }
                Ok(ex) => match nfuse::parse_response(&ex.body, request.kind()) {
                    Ok(response) => return Ok(response),
                    // The farm itself said no: another broker of the same farm says the same.
                    Err(ResponseError::Farm(e)) => return Err(FarmCallError::Farm(e)),
                    Err(e) => FarmCallError::Answer(e),
                },
            };
            if !may_resend {
                return Err(failure);
            }
            tracing::warn!(farm = %farm.name, backend = %addr, error = %failure, "broker failed; trying the next one");
            last = Some(failure);
        }
        Err(
            last.unwrap_or(FarmCallError::Upstream(UpstreamError::no_connection(
                !tried.is_empty(),
                timed_out,
                tls,
            ))),
        )
    }
}
