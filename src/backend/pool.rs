//! A pool of interchangeable servers (StoreFront servers, or one farm's XML brokers): weighted
//! round-robin selection over the healthy ones, skipping servers this request already failed to connect to.
//! A pool with health checks comes with its [`Checked`] balancer; wiring runs the checks (and
//! stops them when a reload replaces the pool).

use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use pingora::lb::discovery::Static;
use pingora::lb::health_check::HealthCheck;
use pingora::lb::selection::RoundRobin;
use pingora::lb::{Backend, Backends, LoadBalancer};

/// Bound on the selection walk; pools are small.
const MAX_SELECT_ITERATIONS: usize = 256;

/// Servers of one store.
#[derive(Clone)]
pub struct Pool {
    lb: Arc<LoadBalancer<RoundRobin>>,
}

/// The balancer of a health-checked pool: running it as a background task
/// (`pingora::services::background::BackgroundService::start`) keeps the pool's health current.
pub type Checked = Arc<LoadBalancer<RoundRobin>>;

impl Pool {
    /// A pool without health checks: every server is always a candidate, each as often.
    pub fn new(addrs: &[SocketAddr]) -> std::io::Result<Pool> {
        let servers: Vec<_> = addrs.iter().map(|a| (*a, 1)).collect();
        Ok(Pool {
            lb: Arc::new(balancer(&servers)?),
        })
    }

    /// A pool of `(server, weight)` whose servers are checked by `check` every `interval`, if
    /// given; a failing server leaves the rotation until it passes again.
    pub fn weighted(
        name: &str,
        servers: &[(SocketAddr, usize)],
        check: Option<(Duration, Box<dyn HealthCheck + Send + Sync>)>,
    ) -> std::io::Result<(Pool, Option<Checked>)> {
        let Some((interval, check)) = check else {
            let lb = Arc::new(balancer(servers)?);
            return Ok((Pool { lb }, None));
        };
        let mut lb = balancer(servers)?;
        lb.set_health_check(check);
        lb.health_check_frequency = Some(interval);
        lb.parallel_health_check = true;
        tracing::debug!(pool = name, "health-checked pool built");
        let lb = Arc::new(lb);
        Ok((Pool { lb: lb.clone() }, Some(lb)))
    }

    /// The next healthy server not in `tried`, if any.
    pub fn select(&self, tried: &[SocketAddr]) -> Option<SocketAddr> {
        self.lb
            .select_with(b"", MAX_SELECT_ITERATIONS, |b, healthy| {
                healthy && b.addr.as_inet().is_some_and(|a| !tried.contains(a))
            })
            .and_then(|b| b.addr.as_inet().copied())
    }

    /// Does any server currently pass its health check?
    pub fn any_healthy(&self) -> bool {
        let backends = self.lb.backends();
        backends.get_backend().iter().any(|b| backends.ready(b))
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

/// A load balancer over a fixed set of weighted servers, its selection built.
fn balancer(servers: &[(SocketAddr, usize)]) -> std::io::Result<LoadBalancer<RoundRobin>> {
    let mut set = BTreeSet::new();
    for (addr, weight) in servers {
        let backend = Backend::new_with_weight(&addr.to_string(), (*weight).max(1))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
        set.insert(backend);
    }
    let lb = LoadBalancer::from_backends(Backends::new(Static::new(set)));
    // Static discovery never waits, so one poll finishes the update (as Pingora's own
    // `try_from_iter` does with `now_or_never`).
    if !update_now(&lb)? {
        return Err(std::io::Error::other("static discovery did not finish"));
    }
    Ok(lb)
}

/// Poll `lb.update()` once; `Ok(false)` when it did not finish.
fn update_now(lb: &LoadBalancer<RoundRobin>) -> std::io::Result<bool> {
    let mut update = pin!(lb.update());
    match update
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(result) => result
            .map(|()| true)
            .map_err(|e| std::io::Error::other(e.to_string())),
        Poll::Pending => Ok(false),
    }
}
