//! The health checks of every pool, as one background service that follows reloads.
//!
//! Pingora runs a background service for the life of the server, so a pool per service could
//! never be replaced. Instead this one service runs the checks of the pools it was last handed:
//! a reload hands it the new pools' balancers ([`HealthHandle::replace`]), it stops the old
//! checks and starts the new ones. Old pools still serve the requests in flight that hold them;
//! their servers keep the health they had last.

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use tokio::sync::watch;

use crate::backend::pool::Checked;

/// Runs the checks of the current pools.
pub struct HealthChecks {
    pools: watch::Receiver<Vec<Checked>>,
}

/// Hands new pools to the running [`HealthChecks`].
pub struct HealthHandle(watch::Sender<Vec<Checked>>);

/// The service for `pools`, and the handle a reload uses.
pub fn health_checks(pools: Vec<Checked>) -> (HealthHandle, HealthChecks) {
    let (tx, rx) = watch::channel(pools);
    (HealthHandle(tx), HealthChecks { pools: rx })
}

impl HealthHandle {
    /// Check `pools` from now on instead of the previous ones.
    pub fn replace(&self, pools: Vec<Checked>) {
        self.0.send_replace(pools);
    }
}

#[async_trait]
impl BackgroundService for HealthChecks {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut pools = self.pools.clone();
        // The balancers' own loops are stopped by aborting them, so their shutdown flag stays
        // down; the sender must outlive them all the same.
        let (_never, quiet) = watch::channel(false);
        loop {
            let current = pools.borrow_and_update().clone();
            let tasks: Vec<_> = current
                .into_iter()
                .map(|lb| {
                    let quiet = quiet.clone();
                    tokio::spawn(async move { BackgroundService::start(&*lb, quiet).await })
                })
                .collect();
            let reloaded = tokio::select! {
                _ = shutdown.changed() => false,
                changed = pools.changed() => match changed {
                    Ok(()) => true,
                    // No reloads (no file, or the reloader is gone): these pools stay.
                    Err(_) => {
                        let _ = shutdown.changed().await;
                        false
                    }
                },
            };
            for task in tasks {
                task.abort();
            }
            if !reloaded {
                return;
            }
        }
    }
}
