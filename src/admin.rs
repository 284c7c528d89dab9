//! The admin listener: `GET /metrics` (Prometheus text), `GET /healthz` (the process answers),
//! `GET /readyz` (every store has a stable server that passes its health check, every XML relay
//! a broker that passes its own), the canary
//! endpoints (`GET /canary`, `GET|POST /canary/{store}`, see [`canary`]) and `POST /reload`
//! (see [`reload`]), whose changes are guarded by [`access`]. Other paths are 404.
//!
//! Each request reads the live configuration once, so a reload changes what the next request
//! sees (stores, canaries, the admin token).

pub mod access;
pub mod canary;
pub mod reload;

use std::sync::Arc;

use async_trait::async_trait;
use http::Response;
use pingora::apps::http_app::{HttpServer, ServeHttp};
use pingora::protocols::http::ServerSession;
use pingora::services::listening::Service;

use self::access::{Denied, MutationAccess};
use crate::live::Current;
use crate::metrics;
use crate::relay::RelayHealth;
use crate::routing::canary::PoolName;
use crate::routing::Router;
use crate::server::reload::Reloader;

/// Serves the admin paths.
pub struct AdminApp {
    current: Current,
    /// The XML relays, fixed for the life of the process.
    relays: Arc<Vec<RelayHealth>>,
    /// `None` when the server was not started from a file (the demo, tests).
    reloader: Option<Arc<Reloader>>,
}

/// The admin listening service.
pub type AdminService = Service<HttpServer<AdminApp>>;

impl AdminApp {
    /// The service, listening on `addr`.
    pub fn service(
        current: Current,
        relays: Arc<Vec<RelayHealth>>,
        reloader: Option<Arc<Reloader>>,
        addr: &str,
    ) -> AdminService {
        let app = AdminApp {
            current,
            relays,
            reloader,
        };
        let mut service = Service::new("admin".to_string(), HttpServer::new_app(app));
        service.add_tcp(addr);
        service
    }

    /// Refresh `sessiongate_backend_up` from the pools and `sessiongate_canary_share_percent`
    /// from the live canaries; the stores with no server up.
    fn refresh_backends(router: &Router) -> Vec<&str> {
        let mut down = Vec::new();
        for store in router.stores() {
            let name = store.config.name.as_str();
            if let Some(rollout) = &store.rollout {
                metrics::canary_share(name, rollout.share().percent());
            }
            let health: Vec<_> = store
                .upstreams
                .named_pools()
                .into_iter()
                .flat_map(|(pool, p)| p.health().into_iter().map(move |h| (pool, h)))
                .collect();
            for (pool, (addr, up)) in &health {
                metrics::backend_up(name, pool.as_str(), &addr.to_string(), *up);
            }
            // The canary falls back to stable, never the other way: stable must have a server.
            if !health
                .iter()
                .any(|(pool, (_, up))| *pool == PoolName::Stable && *up)
            {
                down.push(name);
            }
        }
        down
    }

    /// Refresh `sessiongate_backend_up` for the relays' brokers (store label `relay`, pool
    /// label the farm); the farms of relays with no broker up.
    fn refresh_relays(&self) -> Vec<&str> {
        let mut down = Vec::new();
        for relay in self.relays.iter() {
            let health = relay.pool.health();
            for (addr, up) in &health {
                metrics::backend_up(metrics::RELAY_STORE, &relay.farm, &addr.to_string(), *up);
            }
            if !health.iter().any(|(_, up)| *up) {
                down.push(relay.farm.as_str());
            }
        }
        down
    }

    /// `/readyz`: every store has a stable server up and every relay a broker up.
    fn readiness(&self, router: &Router) -> Response<Vec<u8>> {
        let stores = Self::refresh_backends(router);
        let relays = self.refresh_relays();
        if stores.is_empty() && relays.is_empty() {
            return text(200, "text/plain; charset=utf-8", b"ready\n".to_vec());
        }
        let mut body = String::from("not ready:");
        if !stores.is_empty() {
            body.push_str(&format!(" no server up for store(s) {}", stores.join(", ")));
        }
        if !relays.is_empty() {
            body.push_str(&format!(
                " no broker up for relay(s) to {}",
                relays.join(", ")
            ));
        }
        body.push('\n');
        text(503, "text/plain; charset=utf-8", body.into_bytes())
    }
}

fn text(status: u16, content_type: &str, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut resp = Response::new(body);
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    let len = resp.body().len();
    resp.headers_mut()
        .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
    resp.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache"),
    );
    resp
}

/// A JSON answer.
fn answer(status: u16, value: &serde_json::Value) -> Response<Vec<u8>> {
    let mut body = value.to_string().into_bytes();
    body.push(b'\n');
    text(status, "application/json", body)
}

/// A JSON error: `{"error": message}`.
fn error(status: u16, message: &str) -> Response<Vec<u8>> {
    answer(status, &serde_json::json!({ "error": message }))
}

/// The answer to a change that [`access`] refused; `action` completes "a bearer token is
/// required to ...".
fn denial(denied: Denied, action: &str) -> Response<Vec<u8>> {
    match denied {
        Denied::Unauthorized => {
            let mut r = error(401, &format!("a bearer token is required to {action}"));
            r.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer realm=\"sessiongate-admin\""),
            );
            r
        }
        Denied::Forbidden => error(
            403,
            "changes are off: the admin listener is not on loopback and no admin_token_file is configured",
        ),
    }
}

/// Check a change against `access`: the refusal, counted and ready to send, when it is refused
/// (`None`: go on). The refused request's body is not read, so its connection is not reused.
fn refusal(
    access: &MutationAccess,
    session: &mut ServerSession,
    action: &str,
) -> Option<Response<Vec<u8>>> {
    let authorization = session
        .req_header()
        .headers
        .get_all(http::header::AUTHORIZATION);
    let checked = access.check(authorization.iter().map(|v| v.as_bytes()));
    let denied = checked.err()?;
    metrics::admin_denied(denied.as_str());
    session.set_keepalive(None);
    Some(denial(denied, action))
}

#[async_trait]
impl ServeHttp for AdminApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let live = self.current.snapshot();
        let path = session.req_header().uri.path().to_string();
        if let Some(target) = canary::target(&path) {
            return canary::serve(&live.router, &live.access, session, target).await;
        }
        if path == reload::PATH {
            return reload::serve(self.reloader.as_deref(), &live.access, session).await;
        }
        let req = session.req_header();
        if req.method != http::Method::GET && req.method != http::Method::HEAD {
            let mut r = text(
                405,
                "text/plain; charset=utf-8",
                b"405 method not allowed\n".to_vec(),
            );
            r.headers_mut().insert(
                http::header::ALLOW,
                http::HeaderValue::from_static("GET, HEAD"),
            );
            return r;
        }
        match req.uri.path() {
            "/metrics" => {
                Self::refresh_backends(&live.router);
                self.refresh_relays();
                text(
                    200,
                    "text/plain; version=0.0.4; charset=utf-8",
                    metrics::render(),
                )
            }
            "/healthz" => text(200, "text/plain; charset=utf-8", b"ok\n".to_vec()),
            "/readyz" => self.readiness(&live.router),
            _ => text(
                404,
                "text/plain; charset=utf-8",
                b"404 not found\n".to_vec(),
            ),
        }
    }
}
