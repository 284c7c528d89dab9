//! The typed upstreams of a store, built once at start: StoreFront servers, or legacy farms with
//! what the gateway needs to speak for their users. Requests never pair servers with
//! configuration by position; the canary split adds its pools here.

use std::sync::Arc;

use crate::backend::farm::Farms;
use crate::backend::storefront::Servers;
use crate::backend::Pool;
use crate::identity::Verifier;
use crate::routing::canary::PoolName;

/// What serves a store.
pub enum Upstreams {
    /// StoreFront servers: passthrough with validation and rewriting.
    StoreFront(Servers),
    /// Legacy farms: the gateway answers the Sessions Service itself over NFuse.
    Farms(FarmUpstreams),
}

/// The farms of a store and the verifier of its users' tokens: the farms trust the gateway, so
/// the gateway trusts no one.
pub struct FarmUpstreams {
    pub farms: Farms,
    pub verifier: Arc<Verifier>,
}

impl Upstreams {
    /// Every pool, for health reporting.
    pub fn pools(&self) -> Vec<&Pool> {
        self.named_pools().into_iter().map(|(_, p)| p).collect()
    }

    /// Every pool with its name (a farm's brokers count as the store's stable pool), for the
    /// `pool` label of health metrics.
    pub fn named_pools(&self) -> Vec<(PoolName, &Pool)> {
        match self {
            Upstreams::StoreFront(servers) => std::iter::once((PoolName::Stable, &servers.pool))
                .chain(servers.canary.iter().map(|c| (PoolName::Canary, c)))
                .collect(),
            Upstreams::Farms(f) => f
                .farms
                .members
                .iter()
                .map(|m| (PoolName::Stable, &m.pool))
                .collect(),
        }
    }
}
