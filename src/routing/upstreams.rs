//! The typed upstreams of a store, built once at start: StoreFront servers, or legacy farms with
//! what the gateway needs to speak for their users. Requests never pair servers with
//! configuration by position; the canary split adds its pools here.

use std::sync::Arc;

use crate::backend::farm::Farms;
use crate::backend::storefront::Servers;
use crate::backend::Pool;
use crate::identity::Verifier;

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
        match self {
            Upstreams::StoreFront(servers) => std::iter::once(&servers.pool)
                .chain(&servers.canary)
                .collect(),
            Upstreams::Farms(f) => f.farms.members.iter().map(|m| &m.pool).collect(),
        }
    }
}
