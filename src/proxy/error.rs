//! Every way a request can fail, and the one place that maps each to an HTTP answer.
//!
//! Each failure has a status, a short machine-readable reason (sent in the
//! `X-Sessiongate-Reason` header and used as the `reason` metric label) and a sentence for
//! humans (the body).

use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;

use super::answer;
use crate::backend::farm::{FarmCallError, FarmError};
use crate::backend::storefront::{StoreFrontError, UpstreamError};
use crate::config::Store;
use crate::identity::IdentityError;
use crate::metrics::ActiveQueryOutcome;
use crate::protocol::citrix_auth::AuthError;
use crate::protocol::session_params::ParamsError;

/// Header carrying the reason of an answer the gateway made itself.
pub const REASON_HEADER: &str = "x-sessiongate-reason";
/// The reason of a request for active sessions that the store's (or a farm's) policy refuses.
const ACTIVE_SESSIONS_REFUSED: &str = "active_sessions_refused";

fn upstream_status(u: &UpstreamError) -> u16 {
    match u {
        UpstreamError::NoBackend => 503,
        UpstreamError::ConnectTimeout | UpstreamError::Timeout => 504,
        UpstreamError::ConnectFailed
        | UpstreamError::TooLarge(_)
        | UpstreamError::Broken
        | UpstreamError::TlsFailed => 502,
    }
}

fn upstream_reason(u: &UpstreamError) -> &'static str {
    match u {
        UpstreamError::NoBackend => "upstream_no_backend",
        UpstreamError::ConnectFailed => "upstream_connect_failed",
        UpstreamError::ConnectTimeout => "upstream_connect_timeout",
        UpstreamError::Timeout => "upstream_timeout",
        UpstreamError::TooLarge(_) => "upstream_too_large",
        UpstreamError::Broken => "upstream_broken",
        UpstreamError::TlsFailed => "upstream_tls_failed",
    }
}

/// Why the gateway answered instead of the backend.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("no store is served at this path")]
    NoRoute,
    #[error("the request target must be a path (origin form); the gateway is not a forward proxy")]
    BadTarget,
    #[error("the request needs exactly one Host header holding host[:port]")]
    BadHost,
    #[error("the Sessions Service only accepts POST")]
    MethodNotAllowed,
    #[error("{0}")]
    Unauthorized(AuthError),
    #[error("the Accept header allows no media type this operation can answer with ({0})")]
    NotAcceptable(&'static str),
    #[error("the request Content-Type must be {0}")]
    ContentType(&'static str),
    #[error("the request has no body; it must carry {0}")]
    BodyMissing(&'static str),
    #[error("the request body is larger than this store's limit of {0} bytes")]
    BodyTooLarge(usize),
    #[error("the request body could not be read completely")]
    BodyIncomplete,
    #[error("the request body did not arrive in time")]
    BodyTimeout,
    #[error("{0}")]
    Params(ParamsError),
    #[error("no session has this id")]
    SessionNotFound,
    /// A launch URL's canary tag does not open: the URL was not handed out by this gateway.
    #[error("the launch URL's pool tag is not valid")]
    LaunchTag,
    #[error("the token was not accepted ({})", .0.label())]
    Token(IdentityError),
    /// A passthrough request's exchange failed.
    #[error("{0}")]
    Upstream(UpstreamError),
    #[error("{0}")]
    StoreFront(StoreFrontError),
    #[error("{0}")]
    Farm(FarmError),
    /// A bug: the gateway could not build its own answer.
    #[error("the gateway failed to build its answer")]
    Internal,
}

impl GatewayError {
    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        match self {
            GatewayError::NoRoute | GatewayError::SessionNotFound | GatewayError::LaunchTag => 404,
            GatewayError::MethodNotAllowed => 405,
            GatewayError::Unauthorized(_) => 401,
            GatewayError::NotAcceptable(_) => 406,
            GatewayError::BadTarget
            | GatewayError::BadHost
            | GatewayError::ContentType(_)
            | GatewayError::BodyMissing(_)
            | GatewayError::BodyIncomplete
            | GatewayError::Params(_) => 400,
            GatewayError::BodyTooLarge(_) => 413,
            GatewayError::BodyTimeout => 408,
            GatewayError::Token(IdentityError::Unavailable) => 503,
            GatewayError::Token(_) => 401,
            GatewayError::Upstream(u) => upstream_status(u),
            GatewayError::StoreFront(e) => match e {
                StoreFrontError::ActiveSessionsRefused => 400,
                StoreFrontError::Upstream(u) => upstream_status(u),
                StoreFrontError::BadAnswer => 502,
            },
            GatewayError::Farm(e) => match e {
                FarmError::ActiveSessionsRefused => 400,
                FarmError::SessionNotFound => 404,
                FarmError::Call(FarmCallError::Upstream(u)) => upstream_status(u),
                FarmError::Unavailable
                | FarmError::Call(_)
                | FarmError::Refused(_)
                | FarmError::BadAnswer => 502,
            },
            GatewayError::Internal => 500,
        }
    }

    /// The machine-readable reason; a closed set, used as a metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            GatewayError::NoRoute => "no_route",
            GatewayError::BadTarget => "bad_request_target",
            GatewayError::BadHost => "bad_host",
            GatewayError::MethodNotAllowed => "method_not_allowed",
            GatewayError::Unauthorized(_) => "unauthorized",
            GatewayError::NotAcceptable(_) => "not_acceptable",
            GatewayError::ContentType(_) => "content_type",
            GatewayError::BodyMissing(_) => "body_missing",
            GatewayError::BodyTooLarge(_) => "body_too_large",
            GatewayError::BodyIncomplete => "body_incomplete",
            GatewayError::BodyTimeout => "body_timeout",
            GatewayError::Params(p) => p.reason(),
            GatewayError::SessionNotFound => "session_not_found",
            GatewayError::LaunchTag => "launch_tag_invalid",
            GatewayError::Token(IdentityError::Unavailable) => "token_service_unavailable",
            GatewayError::Token(IdentityError::Expired) => "token_expired",
            GatewayError::Token(IdentityError::Invalid) => "token_invalid",
            GatewayError::Upstream(u) => upstream_reason(u),
            GatewayError::StoreFront(e) => match e {
                StoreFrontError::ActiveSessionsRefused => ACTIVE_SESSIONS_REFUSED,
                StoreFrontError::Upstream(u) => upstream_reason(u),
                StoreFrontError::BadAnswer => "upstream_bad_answer",
            },
            GatewayError::Farm(e) => match e {
                FarmError::ActiveSessionsRefused => ACTIVE_SESSIONS_REFUSED,
                FarmError::SessionNotFound => "session_not_found",
                FarmError::Unavailable => "farms_unavailable",
                FarmError::Call(FarmCallError::Upstream(u)) => upstream_reason(u),
                FarmError::Call(FarmCallError::Farm(_)) | FarmError::Refused(_) => "farm_refused",
                FarmError::Call(FarmCallError::Request(_)) => "farm_request_invalid",
                FarmError::Call(FarmCallError::Status(_) | FarmCallError::Answer(_))
                | FarmError::BadAnswer => "upstream_bad_answer",
            },
            GatewayError::Internal => "internal",
        }
    }

    /// For a fault on the upstream side, its `kind` label (`sessiongate_upstream_errors_total`);
    /// `None` for a fault in the client's request.
    pub fn upstream_kind(&self) -> Option<&'static str> {
        match self {
            GatewayError::Upstream(u) | GatewayError::StoreFront(StoreFrontError::Upstream(u)) => {
                Some(u.kind())
            }
            GatewayError::StoreFront(StoreFrontError::BadAnswer)
            | GatewayError::Farm(FarmError::BadAnswer) => Some("bad_answer"),
            GatewayError::Token(IdentityError::Unavailable) => Some("token_service"),
            GatewayError::Farm(FarmError::Unavailable) => Some("farms_unavailable"),
            GatewayError::Farm(FarmError::Call(e)) => Some(e.outcome()),
            GatewayError::Farm(FarmError::Refused(_)) => Some("farm_error"),
            _ => None,
        }
    }

    /// Is the rest of the request body worth draining to keep the connection?
    pub fn body_may_follow(&self) -> bool {
        !matches!(self, GatewayError::BodyTimeout)
    }

    /// What the active-session policy did, when this error is its refusal.
    pub fn active_query(&self) -> Option<ActiveQueryOutcome> {
        match self {
            GatewayError::StoreFront(StoreFrontError::ActiveSessionsRefused)
            | GatewayError::Farm(FarmError::ActiveSessionsRefused) => {
                Some(ActiveQueryOutcome::Refused)
            }
            _ => None,
        }
    }

    /// The answer: status, reason, `Cache-Control: no-cache`, a text body, and the headers
    /// particular to the status (`Allow`, `WWW-Authenticate`). `keep_alive` says whether the
    /// connection can carry another request (the request body was read to its end).
    pub fn response(
        &self,
        store: Option<&Store>,
        keep_alive: bool,
    ) -> pingora::Result<(ResponseHeader, Bytes)> {
        let status = self.status();
        let body = Bytes::from(format!("{status} {}: {self}\n", self.reason()));
        let mut h = ResponseHeader::build(status, Some(8))?;
        h.insert_header("content-type", "text/plain; charset=utf-8")?;
        h.insert_header("content-length", body.len())?;
        h.insert_header("cache-control", "no-cache")?;
        h.insert_header(REASON_HEADER, self.reason())?;
        if !keep_alive {
            h.insert_header("connection", "close")?;
        }
        match self {
            GatewayError::MethodNotAllowed => h.insert_header("allow", "POST")?,
            GatewayError::Unauthorized(e) => {
                if let Some(store) = store {
                    let challenge = store.challenge.with_reason(e.challenge_reason());
                    h.insert_header("www-authenticate", challenge.render())?;
                }
            }
            GatewayError::Token(e) if self.status() == 401 => {
                if let Some(store) = store {
                    let challenge = store.challenge.with_reason(e.challenge_reason());
                    h.insert_header("www-authenticate", challenge.render())?;
                }
            }
            _ => {}
        }
        Ok((h, body))
    }

    /// Write the answer to the client.
    pub async fn respond(
        &self,
        session: &mut Session,
        store: Option<&Store>,
        keep_alive: bool,
    ) -> pingora::Result<()> {
        if !keep_alive {
            session.set_keepalive(None);
        }
        let (header, body) = self.response(store, keep_alive)?;
        answer::write(session, header, body).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_reasons() {
        let cases: Vec<(GatewayError, u16, &str)> = vec![
            (GatewayError::NoRoute, 404, "no_route"),
            (GatewayError::MethodNotAllowed, 405, "method_not_allowed"),
            (GatewayError::LaunchTag, 404, "launch_tag_invalid"),
            (
                GatewayError::Unauthorized(AuthError::Missing),
                401,
                "unauthorized",
            ),
            (GatewayError::NotAcceptable("x"), 406, "not_acceptable"),
            (GatewayError::ContentType("x"), 400, "content_type"),
            (GatewayError::BodyTooLarge(1), 413, "body_too_large"),
            (
                GatewayError::StoreFront(StoreFrontError::ActiveSessionsRefused),
                400,
                "active_sessions_refused",
            ),
            (
                GatewayError::Farm(FarmError::ActiveSessionsRefused),
                400,
                "active_sessions_refused",
            ),
            (
                GatewayError::Farm(FarmError::Unavailable),
                502,
                "farms_unavailable",
            ),
            (
                GatewayError::Upstream(UpstreamError::NoBackend),
                503,
                "upstream_no_backend",
            ),
            (
                GatewayError::Upstream(UpstreamError::Timeout),
                504,
                "upstream_timeout",
            ),
            (
                GatewayError::Upstream(UpstreamError::ConnectFailed),
                502,
                "upstream_connect_failed",
            ),
            (
                GatewayError::StoreFront(StoreFrontError::BadAnswer),
                502,
                "upstream_bad_answer",
            ),
            (
                GatewayError::Farm(FarmError::BadAnswer),
                502,
                "upstream_bad_answer",
            ),
        ];
        for (e, status, reason) in cases {
            assert_eq!(e.status(), status, "{e:?}");
            assert_eq!(e.reason(), reason, "{e:?}");
        }
    }

    #[test]
    fn the_answer_names_the_reason() {
        let (h, body) = GatewayError::MethodNotAllowed.response(None, true).unwrap();
        assert_eq!(h.status.as_u16(), 405);
        assert_eq!(h.headers.get("allow").unwrap(), "POST");
        assert_eq!(h.headers.get(REASON_HEADER).unwrap(), "method_not_allowed");
        assert!(h.headers.get("connection").is_none());
        assert!(std::str::from_utf8(&body)
            .unwrap()
            .contains("only accepts POST"));
        let (h, _) = GatewayError::BodyTooLarge(10)
            .response(None, false)
            .unwrap();
        assert_eq!(h.headers.get("connection").unwrap(), "close");
    }
}
