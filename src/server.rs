//! Wiring: a Pingora `Server` with the proxy service, the admin service and one health-check
//! task per pool, built from a validated [`Config`]; and a handle to run one on a thread
//! (used by `sessiongate demo` and the integration tests).

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pingora::server::configuration::{Opt, ServerConf};
use pingora::server::{RunArgs, Server, ShutdownSignal, ShutdownSignalWatch};
use pingora::services::ServiceWithDependents;
use tokio::sync::Notify;

use crate::admin::AdminApp;
use crate::backend::farm::NfuseHealthCheck;
use crate::config::{Backend, Config};
use crate::proxy::Gateway;
use crate::routing::{Pool, Router, StoreRoute};

/// Seconds the runtime gets to stop after the grace period.
const SHUTDOWN_TIMEOUT_SECONDS: u64 = 5;

/// Why the server could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("store {store}: cannot build its server pool: {source}")]
    Pool {
        store: String,
        source: std::io::Error,
    },
}

/// Build the router and the health-check services for every store.
fn routes(config: &Config) -> Result<(Router, Vec<Box<dyn ServiceWithDependents>>), ServerError> {
    let mut stores = Vec::new();
    let mut services: Vec<Box<dyn ServiceWithDependents>> = Vec::new();
    for store in &config.stores {
        let pool_error = |source| ServerError::Pool {
            store: store.name.clone(),
            source,
        };
        let mut pools = Vec::new();
        match &store.backend {
            Backend::StoreFront(sf) => {
                let pool = match sf.health_check_interval {
                    Some(interval) => {
                        let (pool, service) =
                            Pool::with_tcp_check(&store.name, &sf.upstreams, interval)
                                .map_err(pool_error)?;
                        services.push(Box::new(service));
                        pool
                    }
                    None => Pool::new(&sf.upstreams).map_err(pool_error)?,
                };
                pools.push(pool);
            }
            Backend::Farms(farms) => {
                for farm in &farms.farms {
                    let pool = match farm.health_check_interval {
                        Some(interval) => {
                            let check = NfuseHealthCheck::new(farm.clone())
                                .map_err(|e| pool_error(std::io::Error::other(e.to_string())))?;
                            let name = format!("{} farm {}", store.name, farm.name);
                            let (pool, service) = Pool::with_health_check(
                                &name,
                                &farm.brokers,
                                interval,
                                Box::new(check),
                            )
                            .map_err(pool_error)?;
                            services.push(Box::new(service));
                            pool
                        }
                        None => Pool::new(&farm.brokers).map_err(pool_error)?,
                    };
                    pools.push(pool);
                }
            }
        }
        stores.push(StoreRoute {
            store: store.clone(),
            pools,
        });
    }
    Ok((Router::new(stores), services))
}

/// The Pingora server for `config`. `opt` carries Pingora's own switches (upgrade, daemon).
pub fn build(config: &Config, opt: Option<Opt>) -> Result<Server, ServerError> {
    let conf = ServerConf {
        threads: config.threads,
        grace_period_seconds: Some(config.grace_period_seconds),
        graceful_shutdown_timeout_seconds: Some(SHUTDOWN_TIMEOUT_SECONDS),
        ..Default::default()
    };
    let mut server = Server::new_with_opt_and_conf(opt, conf);
    server.bootstrap();
    let (router, health) = routes(config)?;
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

/// A one-thread server around `service` that stops at once when told: how the simulators run
/// beside the gateway in the demo and in the tests.
pub fn standalone(service: impl ServiceWithDependents + 'static) -> Server {
    let mut server = Server::new_with_opt_and_conf(
        None,
        ServerConf {
            threads: 1,
            grace_period_seconds: Some(0),
            graceful_shutdown_timeout_seconds: Some(1),
            ..Default::default()
        },
    );
    server.bootstrap();
    server.add_service(service);
    server
}

/// A shutdown signal driven by the owner of a [`Running`] server instead of Unix signals.
struct NotifySignal(Arc<Notify>);

#[async_trait]
impl ShutdownSignalWatch for NotifySignal {
    async fn recv(&self) -> ShutdownSignal {
        self.0.notified().await;
        ShutdownSignal::FastShutdown
    }
}

/// A server running on its own thread; stopped when dropped.
pub struct Running {
    stop: Arc<Notify>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    /// Run `server` on a new thread.
    pub fn spawn(server: Server) -> Running {
        let stop = Arc::new(Notify::new());
        let signal = NotifySignal(stop.clone());
        let thread = std::thread::spawn(move || {
            server.run(RunArgs {
                shutdown_signal: Box::new(signal),
            })
        });
        Running {
            stop,
            thread: Some(thread),
        }
    }

    /// Stop the server and wait for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Wait until something accepts connections on `addr`; `false` after `timeout`.
pub fn wait_for_listener(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
