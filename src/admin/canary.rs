//! The canary endpoints of the admin listener: what operators and controllers read and change.
//!
//! - `GET /canary`: every store with a canary, as JSON (`{"stores": [...]}`).
//! - `GET /canary/{store}`: one of them (`{store}` is the store path with its slashes, e.g.
//!   `/canary/Citrix/Store`).
//! - `POST /canary/{store}` with `{"share": 5}`: set the share (0-100, fractions allowed). This
//!   is also how a rollback is ended: any share an operator sets clears the rolled-back state
//!   and starts the guard on a fresh window. Guarded by [`super::access`].
//!
//! The body is strict: a JSON object with exactly the `share` member, a number, at most
//! [`MAX_CHANGE_BODY`] bytes; anything else is a 400 that says what was expected.

use std::time::Instant;

use http::{header, Method, Response};
use pingora::protocols::http::ServerSession;
use serde::Deserialize;
use serde_json::{json, Value};

use super::access::MutationAccess;
use super::{answer, error, refusal};
use crate::metrics;
use crate::routing::canary::{Counts, Evidence, Share};
use crate::routing::rollout::Rollout;
use crate::routing::{Router, Store};

/// The path of the list; a store's is this, then its path.
pub const PREFIX: &str = "/canary";
/// Largest `POST` body read; `{"share": 12.5}` is 15 bytes.
pub const MAX_CHANGE_BODY: usize = 1024;

/// What a `/canary...` path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// `/canary`: every canary store.
    All,
    /// `/canary{store path}`.
    Store(&'a str),
}

/// The target of an admin path, when it is a canary path.
pub fn target(path: &str) -> Option<Target<'_>> {
    let rest = path.strip_prefix(PREFIX)?;
    match rest {
        "" | "/" => Some(Target::All),
        _ if rest.starts_with('/') => Some(Target::Store(rest)),
        _ => None,
    }
}

/// Why a change body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("the body is larger than {MAX_CHANGE_BODY} bytes")]
    TooLarge,
    #[error("the body must be a JSON object with one member, share: a number from 0 to 100 (e.g. {{\"share\": 5}}): {0}")]
    Malformed(String),
    #[error("share must be a number from 0 to 100 (fractions allowed)")]
    OutOfRange,
}

impl ChangeError {
    pub fn status(&self) -> u16 {
        match self {
            ChangeError::TooLarge => 413,
            ChangeError::Malformed(_) | ChangeError::OutOfRange => 400,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    share: f64,
}

/// The share a `POST` body sets.
pub fn parse_change(body: &[u8]) -> Result<Share, ChangeError> {
    if body.len() > MAX_CHANGE_BODY {
        return Err(ChangeError::TooLarge);
    }
    // serde's derived struct also accepts a sequence (`[5]`): only an object is the shape.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(ChangeError::Malformed("not a JSON object".into()));
    }
    let change: ChangeBody = serde_json::from_slice(body).map_err(|e| {
        // serde_json's message names the problem and its place (it may quote a short piece of
        // the body back to its sender, in this JSON answer only: it is never logged).
        ChangeError::Malformed(e.to_string())
    })?;
    Share::from_percent(change.share).ok_or(ChangeError::OutOfRange)
}

fn counts(c: Counts) -> Value {
    json!({ "requests": c.requests, "failures": c.failures, "rate": c.rate() })
}

fn evidence(e: &Evidence) -> Value {
    json!({
        "cause": e.cause.as_str(),
        "stable": counts(e.stable),
        "canary": counts(e.canary),
        "stable_rate": e.stable_rate,
        "canary_rate": e.canary_rate,
        "z": e.z,
        "p_value": e.p_value,
    })
}

/// One store's canary as JSON, its guard's window read at `now`.
pub fn view(store: &Store, rollout: &Rollout, now: Instant) -> Value {
    let guard = rollout.guard();
    let window = guard.map(|g| {
        let (stable, canary) = g.window(now);
        json!({
            "seconds": g.settings().window.as_secs_f64(),
            "stable": counts(stable),
            "canary": counts(canary),
        })
    });
    json!({
        "store": store.config.path,
        "name": store.config.name,
        "share_percent": rollout.share().percent(),
        "state": rollout.state().as_str(),
        "guard": guard.is_some(),
        "window": window,
        "last_rollback": rollout.last_rollback().as_ref().map(evidence),
    })
}

/// The store with a canary at `path`.
fn find<'a>(router: &'a Router, path: &str) -> Option<(&'a Store, &'a Rollout)> {
    router
        .canaries()
        .find(|(s, _)| s.config.path == path)
        .map(|(s, r)| (s.as_ref(), r))
}

/// Answer a request for `target` (a `/canary...` path).
pub async fn serve(
    router: &Router,
    access: &MutationAccess,
    session: &mut ServerSession,
    target: Target<'_>,
) -> Response<Vec<u8>> {
    let method = session.req_header().method.clone();
    let now = Instant::now();
    match (&method, target) {
        (&Method::GET | &Method::HEAD, Target::All) => {
            let stores: Vec<Value> = router.canaries().map(|(s, r)| view(s, r, now)).collect();
            answer(200, &json!({ "stores": stores }))
        }
        (&Method::GET | &Method::HEAD, Target::Store(path)) => match find(router, path) {
            Some((store, rollout)) => answer(200, &view(store, rollout, now)),
            None => error(404, "no store with a canary at this path"),
        },
        (&Method::POST, Target::Store(path)) => change(router, access, session, path).await,
        (_, target) => {
            let allow = match target {
                Target::All => "GET, HEAD",
                Target::Store(_) => "GET, HEAD, POST",
            };
            let mut r = error(405, "method not allowed");
            if let Ok(v) = http::HeaderValue::from_str(allow) {
                r.headers_mut().insert(header::ALLOW, v);
            }
            r
        }
    }
}

/// `POST /canary{path}`: check access, read the body, set the share.
async fn change(
    router: &Router,
    access: &MutationAccess,
    session: &mut ServerSession,
    path: &str,
) -> Response<Vec<u8>> {
    if let Some(refused) = refusal(access, session, "change the canary") {
        return refused;
    }
    let body = match read_body(session).await {
        Ok(b) => b,
        Err(e) => {
            session.set_keepalive(None);
            return error(e.status(), &e.to_string());
        }
    };
    let share = match parse_change(&body) {
        Ok(s) => s,
        Err(e) => return error(e.status(), &e.to_string()),
    };
    let Some((store, rollout)) = find(router, path) else {
        return error(404, "no store with a canary at this path");
    };
    let before = (rollout.share(), rollout.state());
    rollout.set_share(share);
    metrics::canary_operator_change(&store.config.name);
    tracing::info!(
        store = %store.config.name,
        share_percent = share.percent(),
        previous_percent = before.0.percent(),
        previous_state = before.1.as_str(),
        "canary share set through the admin listener"
    );
    answer(200, &view(store, rollout, Instant::now()))
}

/// The request body, at most [`MAX_CHANGE_BODY`] bytes (a larger declared or sent body is
/// [`ChangeError::TooLarge`] without reading further).
async fn read_body(session: &mut ServerSession) -> Result<Vec<u8>, ChangeError> {
    let declared = session
        .req_header()
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_CHANGE_BODY as u64) {
        return Err(ChangeError::TooLarge);
    }
    let mut body = Vec::new();
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_CHANGE_BODY {
                    return Err(ChangeError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(_) => {
                return Err(ChangeError::Malformed(
                    "the body did not arrive whole".into(),
                ))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(target("/canary"), Some(Target::All));
        assert_eq!(target("/canary/"), Some(Target::All));
        assert_eq!(
            target("/canary/Citrix/Store"),
            Some(Target::Store("/Citrix/Store"))
        );
        assert_eq!(target("/canaryx"), None);
        assert_eq!(target("/metrics"), None);
    }

    #[test]
    fn change_bodies() {
        assert_eq!(
            parse_change(br#"{"share": 5}"#),
            Ok(Share::from_percent(5.0).unwrap())
        );
        assert_eq!(
            parse_change(b" {\"share\":12.5}\n"),
            Ok(Share::from_percent(12.5).unwrap())
        );
        assert_eq!(parse_change(br#"{"share": 0}"#), Ok(Share::ZERO));
        for (bad, want) in [
            (&br#"{"share": 101}"#[..], 400),
            (br#"{"share": -1}"#, 400),
            (br#"{"share": 1e999}"#, 400),
            (br#"{"share": "5"}"#, 400),
            (br#"{"share": null}"#, 400),
            (br#"{"share": 5, "resume": true}"#, 400),
            (br#"{"share": 5, "share": 6}"#, 400),
            (br#"{}"#, 400),
            (b"share=5", 400),
            (b"", 400),
            (b"[5]", 400),
            (b"\xff\xfe", 400),
        ] {
            let err = parse_change(bad).unwrap_err();
            assert_eq!(
                err.status(),
                want,
                "{:?}: {err}",
                String::from_utf8_lossy(bad)
            );
        }
        let big = format!("{{\"share\": 5{}}}", " ".repeat(MAX_CHANGE_BODY));
        assert_eq!(parse_change(big.as_bytes()), Err(ChangeError::TooLarge));
    }
}
