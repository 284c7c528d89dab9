//! Wiring: the live stores built from a validated [`Config`] ([`upstreams`]), and a Pingora
//! `Server` with the proxy service, the admin service and one health-check task per pool; plus
//! running a server on a thread beside others ([`running`]).

pub mod running;
pub mod upstreams;

use std::sync::Arc;

use pingora::server::configuration::{Opt, ServerConf};
use pingora::server::Server;

pub use running::{standalone, wait_for_listener, Handoff, Running};
pub use upstreams::{prepare, Prepared};

use crate::admin::AdminApp;
use crate::config::{Config, ConfigIssue};
use crate::proxy::Gateway;

/// Seconds the runtime gets to stop after the grace period.
const SHUTDOWN_TIMEOUT_SECONDS: u64 = 5;

/// Why the server could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{} problem(s):\n{}", .0.len(), crate::config::error::render(.0))]
    Config(Vec<ConfigIssue>),
}

/// The Pingora server for `config`. `opt` carries Pingora's own switches (upgrade, daemon).
pub fn build(config: &Config, opt: Option<Opt>) -> Result<Server, ServerError> {
    let Prepared { router, health } = prepare(config).map_err(ServerError::Config)?;
    let conf = ServerConf {
        threads: config.threads,
        grace_period_seconds: Some(config.grace_period_seconds),
        graceful_shutdown_timeout_seconds: Some(SHUTDOWN_TIMEOUT_SECONDS),
        upgrade_sock: config.upgrade_socket.display().to_string(),
        ..Default::default()
    };
    let mut server = Server::new_with_opt_and_conf(opt, conf);
    server.bootstrap();
    let router = Arc::new(router);
    let mut proxy =
        pingora::proxy::http_proxy_service(&server.configuration, Gateway::new(router.clone()));
    for addr in &config.listen {
        proxy.add_tcp(&addr.to_string());
    }
    server.add_service(proxy);
    server.add_service(AdminApp::service(router, &config.admin_listen.to_string()));
    for service in health {
        server.add_boxed_service(service);
    }
    Ok(server)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests;
