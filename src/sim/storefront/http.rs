//! The HTTP side of the simulated store: the Pingora app, request routing, the header checks a
//! StoreFront store makes (405, 401, 406, 400, 413), and the documents it answers with, built by
//! the `protocol` writers with absolute URLs from the request's `Host` header. Request bodies are
//! read by the simulator's own `params` reader, never by the gateway's parsers.

use std::sync::Arc;

use async_trait::async_trait;
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;

use super::control;
use super::params::{read_launch_params, read_session_params};
use super::state::{ica_file, Endpoint, Query, SessionSnapshot};
use super::{Fault, RecordedRequest, StoreFrontSim, MAX_REQUEST_BODY};
use crate::protocol::citrix_auth::{self, Challenge};
use crate::protocol::{endpoints, launch_data, media, session_results, session_state};

const NO_CACHE: &str = "no-cache";
const LAUNCH_CACHE: &str = "public, no-store, max-age=0";
const TEXT: &str = "text/plain; charset=utf-8";
/// The header naming the simulator on every answer, when it has a name (see
/// [`StoreFrontSim::set_server_name`]): lets a demo user see which pool answered.
pub const SERVER_HEADER: &str = "x-sim-server";

/// The Pingora app serving one [`StoreFrontSim`].
pub struct SimApp {
    sim: Arc<StoreFrontSim>,
}

impl SimApp {
    pub fn new(sim: Arc<StoreFrontSim>) -> SimApp {
        SimApp { sim }
    }
}

/// What a path of the store asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Available,
    Disconnect,
    Logoff,
    Launch(String),
    Endpoints,
    Resources,
    Home,
    NotFound,
}

/// Route `path` (no query) below `store` (no trailing slash). Fixed segments match without
/// regard to case, as IIS does; a trailing slash is accepted.
fn route(store: &str, path: &str) -> Route {
    let rest = match path.get(..store.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(store) => path.get(store.len()..),
        _ => None,
    };
    let Some(rest) = rest.and_then(|r| r.strip_prefix('/')) else {
        return Route::NotFound;
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segs: Vec<&str> = rest.split('/').collect();
    let is = |s: &&str, want: &str| s.eq_ignore_ascii_case(want);
    match segs.as_slice() {
        [a, v, op] if is(a, "sessions") && is(v, "v1") => {
            if is(op, "available") {
                Route::Available
            } else if is(op, "disconnect") {
                Route::Disconnect
            } else if is(op, "logoff") {
                Route::Logoff
            } else {
                Route::NotFound
            }
        }
        [a, v, id, l, ica]
            if (is(a, "session") || is(a, "sessions"))
                && is(v, "v1")
                && is(l, "launch")
                && is(ica, "ica")
                && !id.is_empty() =>
        {
            Route::Launch((*id).to_string())
        }
        [a, v] if is(a, "endpoints") && is(v, "v1") => Route::Endpoints,
        [a, v] if is(a, "resources") && is(v, "v2") => Route::Resources,
        [a] if is(a, "home") => Route::Home,
        _ => Route::NotFound,
    }
}

/// A request, header read and body read (or given up on).
struct Request {
    method: Method,
    route: Route,
    /// `host[:port]` for the absolute URLs of the answer; `None` when the request's was unusable.
    host: Option<String>,
    headers: HeaderMap,
    body: Body,
}

enum Body {
    Read(Vec<u8>),
    TooLarge,
    Broken,
}

/// An answer with exact framing.
fn answer(status: u16, content_type: Option<&str>, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    if let Some(ct) = content_type.and_then(|c| HeaderValue::from_str(c).ok()) {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    let len = resp.body().len();
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    resp
}

pub(super) fn text(status: u16, msg: &str) -> Response<Vec<u8>> {
    answer(status, Some(TEXT), format!("{msg}\n").into_bytes())
}

pub(super) fn with_header(
    mut resp: Response<Vec<u8>>,
    name: HeaderName,
    value: &str,
) -> Response<Vec<u8>> {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
    resp
}

/// Is `host` a plain `host[:port]` (no path, no spaces, nothing to inject into a URL)?
fn usable_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:[]".contains(&b))
}

/// How much of an oversized body is read and dropped, so that the 413 reaches the client
/// cleanly (closing a socket with unread data makes the kernel reset the connection).
const MAX_DRAIN: usize = 16 * MAX_REQUEST_BODY;

/// Read the request body, keeping at most [`MAX_REQUEST_BODY`] bytes. The flag says whether the
/// body was read to its end (the connection can be reused).
async fn read_body(session: &mut ServerSession) -> (Body, bool) {
    let body = crate::sim::read_body(session, MAX_REQUEST_BODY, MAX_DRAIN).await;
    let kind = match (body.complete, body.seen) {
        (true, seen) if seen > MAX_REQUEST_BODY => Body::TooLarge,
        (true, _) => Body::Read(body.kept),
        (false, seen) if seen > MAX_DRAIN => Body::TooLarge,
        (false, _) => Body::Broken,
    };
    (kind, body.complete)
}

#[async_trait]
impl ServeHttp for SimApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let req = session.req_header();
        let method = req.method.clone();
        let path = req
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".to_string());
        let route = route(&self.sim.config.store_path, req.uri.path());
        let headers = req.headers.clone();
        let host = match headers.get(header::HOST) {
            Some(h) => h.to_str().ok().map(str::to_string),
            None => req
                .uri
                .authority()
                .map(|a| a.to_string())
                .or_else(|| session.server_addr().map(|a| a.to_string())),
        }
        .filter(|h| usable_host(h));

        let (body, complete) = read_body(session).await;
        if !complete {
            // The rest of the body is still on the wire (or the wire is gone): do not reuse.
            session.set_keepalive(None);
        }
        let request = Request {
            method,
            route,
            host,
            headers,
            body,
        };
        let resp = if control::is_control(session.req_header().uri.path()) {
            let body = match &request.body {
                Body::Read(b) => Some(b.as_slice()),
                _ => None,
            };
            let path = session.req_header().uri.path();
            control::handle(&self.sim, &request.method, path, body)
        } else {
            self.store_answer(path, &request).await
        };
        match self.sim.server_name() {
            Some(name) => with_header(resp, HeaderName::from_static(SERVER_HEADER), &name),
            None => resp,
        }
    }
}

impl SimApp {
    /// A request of the store (not a control route): recorded, answered, the answer recorded.
    async fn store_answer(&self, path: String, req: &Request) -> Response<Vec<u8>> {
        self.sim.record_request(RecordedRequest {
            method: req.method.to_string(),
            path,
            headers: req
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: match &req.body {
                Body::Read(b) => b.clone(),
                _ => Vec::new(),
            },
        });
        let resp = self.handle(req).await;
        self.sim.record_response(resp.body());
        resp
    }

    async fn handle(&self, req: &Request) -> Response<Vec<u8>> {
        if req.route == Route::NotFound {
            return text(404, "404 not found");
        }
        let Some(host) = req.host.as_deref() else {
            return text(400, "400 missing or invalid Host header");
        };
        let urls = Urls {
            host,
            store: &self.sim.config.store_path,
        };
        match &req.route {
            Route::Home => with_header(
                answer(302, None, Vec::new()),
                header::LOCATION,
                &urls.resources(),
            ),
            Route::Endpoints => self.endpoints(req, &urls),
            Route::Resources => self.resources(req, &urls),
            _ => self.sessions(req, &urls).await,
        }
    }

    /// The CitrixAuth check: the user, or the 401 answer.
    fn authorize(&self, req: &Request, urls: &Urls<'_>) -> Result<String, Box<Response<Vec<u8>>>> {
        let values = req
            .headers
            .get_all(header::AUTHORIZATION)
            .iter()
            .map(|v| v.as_bytes());
        let reason = match citrix_auth::token_from_headers(values) {
            Ok(token) => match self.sim.user_of(token) {
                Some(user) => return Ok(user.to_string()),
                None => "invalidtoken",
            },
            Err(e) => e.challenge_reason(),
        };
        let challenge = Challenge::new(
            &self.sim.config.realm,
            reason,
            &[urls.token_service()],
            &urls.resources(),
        );
        Err(Box::new(with_header(
            text(401, "401 unauthorized"),
            header::WWW_AUTHENTICATE,
            &challenge.render(),
        )))
    }

    fn endpoints(&self, req: &Request, urls: &Urls<'_>) -> Response<Vec<u8>> {
        if req.method != Method::GET && req.method != Method::HEAD {
            return with_header(
                text(405, "405 method not allowed"),
                header::ALLOW,
                "GET, HEAD",
            );
        }
        let fault = self.sim.fault();
        if let Some(resp) = fault_answer(fault.as_ref(), media::ENDPOINTS) {
            return resp;
        }
        let body = endpoints_document(urls);
        with_fault_type(answer(200, Some(media::ENDPOINTS), body), fault.as_ref())
    }

    fn resources(&self, req: &Request, urls: &Urls<'_>) -> Response<Vec<u8>> {
        if req.method != Method::GET && req.method != Method::POST && req.method != Method::HEAD {
            return with_header(
                text(405, "405 method not allowed"),
                header::ALLOW,
                "GET, HEAD, POST",
            );
        }
        let user = match self.authorize(req, urls) {
            Ok(user) => user,
            Err(resp) => return *resp,
        };
        let body = format!("{{\"user\":{},\"resources\":[]}}", json_string(&user));
        with_header(
            answer(
                200,
                Some("application/json; charset=utf-8"),
                body.into_bytes(),
            ),
            header::CACHE_CONTROL,
            NO_CACHE,
        )
    }

    async fn sessions(&self, req: &Request, urls: &Urls<'_>) -> Response<Vec<u8>> {
        let delay = self.sim.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if req.method != Method::POST {
            return with_header(text(405, "405 method not allowed"), header::ALLOW, "POST");
        }
        let user = match self.authorize(req, urls) {
            Ok(user) => user,
            Err(resp) => return *resp,
        };
        let (request_type, answer_type) = match req.route {
            Route::Available => (media::SESSION_PARAMS, media::SESSION_STATE),
            Route::Launch(_) => (media::LAUNCH_PARAMS, media::LAUNCH_DATA),
            _ => (media::SESSION_PARAMS, media::SESSION_RESULTS),
        };
        let accept = req
            .headers
            .get_all(header::ACCEPT)
            .iter()
            .map(|v| v.as_bytes());
        if !media::accepts(accept, answer_type) {
            return text(406, "406 unrecognised Accept header");
        }
        let content_type_ok = req
            .headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| media::content_type_matches(v.as_bytes(), request_type));
        if !content_type_ok {
            return text(400, &format!("400 Content-Type must be {request_type}"));
        }
        let body = match &req.body {
            Body::Read(b) => b,
            Body::TooLarge => return text(413, "413 request body too large"),
            Body::Broken => return text(400, "400 request body unreadable"),
        };
        let fault = self.sim.fault();
        if let Some(resp) = fault_answer(fault.as_ref(), answer_type) {
            return resp;
        }
        let resp = if let Route::Launch(id) = &req.route {
            self.launch(&user, id, body)
        } else {
            self.session_op(&user, &req.route, body, urls)
        };
        if resp.status() == StatusCode::OK {
            with_fault_type(resp, fault.as_ref())
        } else {
            resp
        }
    }

    /// `available`, `disconnect` or `logoff`.
    fn session_op(
        &self,
        user: &str,
        route: &Route,
        body: &[u8],
        urls: &Urls<'_>,
    ) -> Response<Vec<u8>> {
        let allow_tickets = *route != Route::Available;
        let params = match read_session_params(body, allow_tickets) {
            Ok(p) => p,
            Err(e) => return text(400, &format!("400 invalid sessionparams: {e}")),
        };
        let client = Endpoint {
            client_name: &params.client_name,
            device_id: params.device_id.as_deref(),
        };
        let mut inner = self.sim.lock();
        match route {
            Route::Available => {
                let query = Query {
                    include_active: params.include_active,
                    app_sessions_only: params.app_sessions_only,
                    legacy_hazard: self.sim.config.legacy_hazard,
                };
                let listed = inner.store.available(user, client, query);
                drop(inner);
                let body = session_state_document(&listed, urls);
                with_header(
                    answer(200, Some(media::SESSION_STATE), body),
                    header::CACHE_CONTROL,
                    NO_CACHE,
                )
            }
            _ => {
                if *route == Route::Logoff {
                    inner.store.logoff(user, client, &params.tickets);
                } else {
                    inner.store.disconnect(user, client, &params.tickets);
                }
                drop(inner);
                let body = session_results::write(session_results::ResultStatus::Success);
                with_header(
                    answer(200, Some(media::SESSION_RESULTS), body),
                    header::CACHE_CONTROL,
                    NO_CACHE,
                )
            }
        }
    }

    fn launch(&self, user: &str, id: &str, body: &[u8]) -> Response<Vec<u8>> {
        let params = match read_launch_params(body) {
            Ok(p) => p,
            Err(e) => return text(400, &format!("400 invalid launchparams: {e}")),
        };
        let launched = self.sim.lock().store.launch(
            user,
            id,
            params.client_name.as_deref(),
            params.device_id.as_deref(),
        );
        let Some(launched) = launched else {
            return with_header(
                text(404, "404 session not found"),
                HeaderName::from_static("x-citrix-error-reason"),
                "ResourceNotFound",
            );
        };
        let result = launch_data::LaunchResult::Ica {
            ica: ica_file(&launched),
            logon_ticket: Some(launched.ticket.clone()),
        };
        with_header(
            answer(200, Some(media::LAUNCH_DATA), launch_data::write(&result)),
            header::CACHE_CONTROL,
            LAUNCH_CACHE,
        )
    }
}

/// The answer a fault replaces the real one with, if it does.
fn fault_answer(fault: Option<&Fault>, media_type: &str) -> Option<Response<Vec<u8>>> {
    match fault? {
        Fault::GarbageBody => Some(answer(
            200,
            Some(media_type),
            b"<?xml version=\"1.0\"?><sessionState><sessions><session id=\"&bogus;\"></sessionData"
                .to_vec(),
        )),
        Fault::Status(code) => Some(text(*code, "simulated fault")),
        Fault::ContentType(_) => None,
    }
}

/// Replace the `Content-Type` when the fault says so.
fn with_fault_type(resp: Response<Vec<u8>>, fault: Option<&Fault>) -> Response<Vec<u8>> {
    match fault {
        Some(Fault::ContentType(ct)) => with_header(resp, header::CONTENT_TYPE, ct),
        _ => resp,
    }
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Absolute URLs of the store, as seen through the request's `Host`.
struct Urls<'a> {
    host: &'a str,
    store: &'a str,
}

impl Urls<'_> {
    fn base(&self) -> String {
        format!("http://{}{}", self.host, self.store)
    }

    fn resources(&self) -> String {
        format!("{}/resources/v2", self.base())
    }

    /// The token service, `{store}Auth/auth/v1/token` as a default StoreFront install has it.
    fn token_service(&self) -> String {
        format!("{}Auth/auth/v1/token", self.base())
    }

    fn launch(&self, id: &str) -> String {
        format!("{}/session/v1/{id}/launch/ica", self.base())
    }
}

fn session_state_document(listed: &[SessionSnapshot], urls: &Urls<'_>) -> Vec<u8> {
    let sessions = listed
        .iter()
        .map(|s| session_state::Session {
            id: s.id.clone(),
            server_type: s.server_type.clone(),
            launch_url: urls.launch(&s.id),
            initial_app: Some(s.app.clone()),
            initial_app_resource_aggregated: Some(false),
            initial_app_resource_id: Some(format!(
                "{}.{}",
                s.publisher,
                s.app.replace(|c: char| !c.is_ascii_alphanumeric(), "")
            )),
            publisher_name: Some(s.publisher.clone()),
        })
        .collect();
    session_state::write(&session_state::SessionState {
        enumeration: session_state::Enumeration::Full,
        sessions,
    })
}

fn endpoints_document(urls: &Urls<'_>) -> Vec<u8> {
    let base = urls.base();
    let endpoint = |id: &str, path: &str, caps: &[&str]| endpoints::Endpoint {
        id: id.to_string(),
        url: format!("{base}{path}"),
        capabilities: caps.iter().map(|c| c.to_string()).collect(),
    };
    let list = vec![
        endpoint(
            "ListResourcesWithAutoProvision",
            "/resources/v2",
            &["ResourcesEnumerationV2"],
        ),
        endpoint("ListSessions", "/sessions/v1/available", &["listSessions"]),
        endpoint(
            "DisconnectSessions",
            "/sessions/v1/disconnect",
            &["disconnectSessions"],
        ),
        endpoint("LogOffSessions", "/sessions/v1/logoff", &["logOffSessions"]),
    ];
    endpoints::write(&list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let s = "/Citrix/Store";
        assert_eq!(
            route(s, "/Citrix/Store/sessions/v1/available"),
            Route::Available
        );
        assert_eq!(
            route(s, "/citrix/store/Sessions/v1/disconnect/"),
            Route::Disconnect
        );
        assert_eq!(route(s, "/Citrix/Store/sessions/v1/logoff/"), Route::Logoff);
        assert_eq!(
            route(s, "/Citrix/Store/session/v1/ab12/launch/ica"),
            Route::Launch("ab12".into())
        );
        assert_eq!(
            route(s, "/Citrix/Store/sessions/v1/ab12/launch/ica"),
            Route::Launch("ab12".into())
        );
        assert_eq!(route(s, "/Citrix/Store/endpoints/v1"), Route::Endpoints);
        assert_eq!(route(s, "/Citrix/Store/resources/v2"), Route::Resources);
        assert_eq!(route(s, "/Citrix/Store/home"), Route::Home);
        for bad in [
            "/",
            "",
            "/Citrix/Storex/home",
            "/Citrix/Store",
            "/Citrix/Store/sessions/v1/other",
            "/Citrix/Store/sessions/v1//launch/ica",
            "/Citrix/StoreAuth/auth/v1/token",
            "/Citrix/Store/\u{e9}",
        ] {
            assert_eq!(route(s, bad), Route::NotFound, "{bad}");
        }
    }

    #[test]
    fn hosts() {
        assert!(usable_host("127.0.0.1:8081"));
        assert!(usable_host("[::1]:80"));
        assert!(!usable_host("a/b"));
        assert!(!usable_host("a b"));
        assert!(!usable_host(""));
    }
}
