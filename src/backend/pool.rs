//! A pool of interchangeable servers (StoreFront servers, or one farm's XML brokers): round-robin
//! selection over the healthy ones, skipping servers this request already failed to connect to.
//! A pool with health checks comes with the background service that runs them; wiring hands that
//! service to the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use pingora::lb::health_check::HealthCheck;
use pingora::lb::selection::RoundRobin;
use pingora::lb::LoadBalancer;
use pingora::services::background::{background_service, GenBackgroundService};

/// Bound on the selection walk; pools are small.
const MAX_SELECT_ITERATIONS: usize = 256;

/// Servers of one store.
#[derive(Clone)]
pub struct Pool {
    lb: Arc<LoadBalancer<RoundRobin>>,
}

/// The background task that health-checks a pool; the server runs it.
pub type HealthService = GenBackgroundService<LoadBalancer<RoundRobin>>;

impl Pool {
    /// A pool without health checks: every server is always a candidate.
    pub fn new(addrs: &[SocketAddr]) -> std::io::Result<Pool> {
        Ok(Pool {
            lb: Arc::new(LoadBalancer::try_from_iter(addrs.iter().copied())?),
        })
    }

    /// A pool whose servers are checked by `check` every `interval`; a failing server leaves
    /// the rotation until it passes again.
    pub fn with_health_check(
        name: &str,
        addrs: &[SocketAddr],
        interval: Duration,
        check: Box<dyn HealthCheck + Send + Sync>,
    ) -> std::io::Result<(Pool, HealthService)> {
        let mut lb = LoadBalancer::<RoundRobin>::try_from_iter(addrs.iter().copied())?;
        lb.set_health_check(check);
        lb.health_check_frequency = Some(interval);
        lb.parallel_health_check = true;
        let service = background_service(&format!("health check {name}"), lb);
        Ok((Pool { lb: service.task() }, service))
    }

    /// The next healthy server not in `tried`, if any.
    pub fn select(&self, tried: &[SocketAddr]) -> Option<SocketAddr> {
        self.lb
            .select_with(b"", MAX_SELECT_ITERATIONS, |b, healthy| {
                healthy && b.addr.as_inet().is_some_and(|a| !tried.contains(a))
            })
            .and_then(|b| b.addr.as_inet().copied())
    }

    /// Every server with whether it currently passes its health check.
    pub fn health(&self) -> Vec<(SocketAddr, bool)> {
        let backends = self.lb.backends();
        backends
            .get_backend()
            .iter()
            .filter_map(|b| b.addr.as_inet().map(|a| (*a, backends.ready(b))))
            .collect()
    }
}
