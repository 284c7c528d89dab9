//! Wiring: the live stores built from a validated [`Config`] ([`upstreams`]), and a Pingora
//! `Server` with the proxy service, the admin service, one service per XML relay ([`relays`])
//! and the pools' health checks; plus
//! running a server on a thread beside others ([`running`]); failing fast when a port is taken
//! ([`ports`]); reloading the configuration ([`reload`]) and the health checks that follow it
//! ([`health`]).

pub mod certificate;
pub mod health;
pub mod ports;
pub mod relays;
pub mod reload;
pub mod running;
pub mod upstreams;

use std::path::PathBuf;
use std::sync::Arc;

use pingora::server::configuration::{Opt, ServerConf};
use pingora::server::Server;

pub use running::{standalone, wait_for_listener, Handoff, Running};
pub use upstreams::{prepare, Prepared};

use pingora::apps::HttpServerOptions;
use pingora::listeners::ListenerConfig;
use pingora::protocols::l4::stream::L4BufferSettings;
use pingora::proxy::HttpProxy;
use pingora::services::background::background_service;
use pingora::services::listening::Service;

use self::certificate::{ListenerCertificate, Served};
use self::reload::ConfigHash;
use crate::backend::pool::Checked;
use crate::live::{Current, Live};
use crate::metrics;

use crate::admin::access::{AdminToken, MutationAccess};
use crate::admin::AdminApp;
use crate::config::{Config, ConfigIssue, Issues};
use crate::proxy::connection::{ClientLimits, Limited};
use crate::proxy::Gateway;

/// The client-facing service; Pingora names its worker threads after it.
pub const PROXY_SERVICE: &str = "proxy";
/// Seconds the runtime gets to stop after the grace period.
const SHUTDOWN_TIMEOUT_SECONDS: u64 = 5;
/// Read buffer of a client connection: none, Pingora's header reader has its own.
const READ_BUFFER_BYTES: usize = 0;
/// Write buffer of a client connection: none, the client stream gathers each answer itself and
/// holds no buffer between answers (`proxy::client_stream`).
const WRITE_BUFFER_BYTES: usize = 0;

/// Why the server could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{} problem(s):\n{}", .0.len(), crate::config::error::render(.0))]
    Config(Vec<ConfigIssue>),
}

/// Who may change state through the admin listener: the token file is read here, so `-t`
/// tries it too. Its content never appears in an issue.
pub fn admin_access(config: &Config) -> Result<MutationAccess, Vec<ConfigIssue>> {
    let token = match &config.admin_token_file {
        None => None,
        Some(path) => match AdminToken::from_file(path) {
            Ok(token) => Some(token),
            Err(e) => {
                let mut issues = Issues::default();
                issues.push(
                    "admin_token_file",
                    format!("{}: {e}", path.display()),
                    "create one with `head -c 32 /dev/urandom | base64 > /etc/sessiongate/admin.token` (readable by the gateway only) and name it here",
                );
                return Err(issues.0);
            }
        },
    };
    Ok(MutationAccess::new(config.admin_listen, token))
}

/// The file a server was started from; with it, the server reloads (see [`reload`]).
pub struct Source {
    pub path: PathBuf,
    pub hash: ConfigHash,
}

/// The Pingora server for `config`. `opt` carries Pingora's own switches (upgrade, daemon).
pub fn build(config: &Config, opt: Option<Opt>) -> Result<Server, ServerError> {
    build_from(config, opt, None)
}

/// The Pingora server for `config`, read from `source` when given: then SIGHUP, `POST /reload`
/// and (configured) a change of the file reload it.
pub fn build_from(
    config: &Config,
    opt: Option<Opt>,
    source: Option<Source>,
) -> Result<Server, ServerError> {
    let (live, pools, certificates, prepared_relays) = assemble(config)?;
    crate::logging::access::set_format(config.access_log);
    metrics::config_loaded(source.as_ref().map(|s| s.hash.metric_value()));
    let conf = ServerConf {
        threads: config.threads,
        grace_period_seconds: Some(config.grace_period_seconds),
        graceful_shutdown_timeout_seconds: Some(SHUTDOWN_TIMEOUT_SECONDS),
        upgrade_sock: config.upgrade_socket.display().to_string(),
        ..Default::default()
    };
    let mut server = Server::new_with_opt_and_conf(opt, conf);
    server.bootstrap();
    let current = Current::new(live);
    let (proxy, served) = proxy_service(&server, config, &current, &certificates)?;
    server.add_service(proxy);
    let (health, checks) = health::health_checks(pools);
    server.add_service(background_service("health checks", checks));
    let reloader = source.map(|s| {
        Arc::new(reload::Reloader::new(
            s.path,
            config.clone(),
            s.hash,
            reload::Handles {
                current: current.clone(),
                health,
                certificates: served,
            },
        ))
    });
    if let Some(reloader) = &reloader {
        let triggers = reload::Triggers {
            reloader: reloader.clone(),
            watch: config.watch_interval,
        };
        server.add_service(background_service("reload", triggers));
    }
    server.add_service(AdminApp::service(
        current,
        relays::relay_health(&prepared_relays.relays),
        reloader,
        &config.admin_listen.to_string(),
    ));
    add_relays(&mut server, prepared_relays, config)?;
    Ok(server)
}

/// The XML relays' services, and the health checks of their farms' brokers. A relay is not part
/// of the live configuration: its listener, like the others, changes with a restart only, so its
/// checks run in a service of their own that reloads never replace.
fn add_relays(
    server: &mut Server,
    prepared: relays::PreparedRelays,
    config: &Config,
) -> Result<(), ServerError> {
    let relays::PreparedRelays { relays, health } = prepared;
    if !health.is_empty() {
        let (_fixed, checks) = health::health_checks(health);
        server.add_service(background_service("relay health checks", checks));
    }
    for relay in relays {
        let service = relays::relay_service(relay, &config.clients)
            .map_err(|issue| ServerError::Config(vec![issue]))?;
        server.add_service(service);
    }
    Ok(())
}

/// The live configuration, the pools to health-check, the listeners' certificates and the XML
/// relays.
#[allow(clippy::type_complexity)]
fn assemble(
    config: &Config,
) -> Result<
    (
        Live,
        Vec<Checked>,
        Vec<(usize, ListenerCertificate)>,
        relays::PreparedRelays,
    ),
    ServerError,
> {
    match (prepare(config), admin_access(config)) {
        (Ok(p), Ok(access)) => {
            let live = Live {
                router: p.router,
                trusted_proxies: config.trusted_proxies.clone(),
                access,
            };
            Ok((live, p.health, p.certificates, p.relays))
        }
        (p, a) => {
            let mut issues = p.err().unwrap_or_default();
            issues.extend(a.err().unwrap_or_default());
            Err(ServerError::Config(issues))
        }
    }
}

/// The client-facing service.
type ProxyService = Service<Limited<HttpProxy<Gateway>>>;

/// What serves the HTTPS listeners' certificates, by index in `listen`.
pub type ServedCertificates = Vec<(usize, Arc<Served>)>;

/// The client-facing service: the gateway behind the client limits, on every listener; and the
/// certificates its HTTPS listeners serve.
fn proxy_service(
    server: &Server,
    config: &Config,
    current: &Current,
    certificates: &[(usize, ListenerCertificate)],
) -> Result<(ProxyService, ServedCertificates), ServerError> {
    let clients = &config.clients;
    let gateway = Gateway::new(current.clone(), clients.body_timeout);
    let limits = ClientLimits {
        header: clients.header_timeout,
        idle: clients.idle_timeout,
        max_connections: clients.max_connections,
    };
    let mut http = pingora::proxy::http_proxy(&server.configuration, gateway);
    // HTTP/2 connections run Pingora's own stream loop (`Limited` serves HTTP/1 itself): its
    // idle limit is the clients' one.
    let mut options = HttpServerOptions::default();
    options.h2_idle_timeout = Some(clients.idle_timeout);
    http.server_options = Some(options);
    let app = Limited::new(http, limits);
    let mut proxy = Service::new(PROXY_SERVICE.to_string(), app);
    let mut served = Vec::new();
    for (i, addr) in config.listen.iter().enumerate() {
        // Plain HTTP gains nothing from Pingora's 64 KiB read buffer per connection, and an idle
        // connection would hold it (reference notes on Pingora, §10.2); rustls keeps its own.
        let buffers = L4BufferSettings::new(READ_BUFFER_BYTES, WRITE_BUFFER_BYTES);
        let mut listener = ListenerConfig::tcp(addr.to_string()).l4_buffer(buffers);
        if let Some((_, certificate)) = certificates.iter().find(|(index, _)| *index == i) {
            let (settings, handle) = certificate.settings().map_err(|e| {
                ServerError::Config(vec![ConfigIssue {
                    key: format!("listen[{i}]"),
                    problem: format!("cannot set up TLS: {e}"),
                    fix: "report this: the certificate loaded".into(),
                }])
            })?;
            served.push((i, handle));
            listener = listener.tls(settings);
        }
        proxy.add_listener(listener);
    }
    Ok((proxy, served))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests;
