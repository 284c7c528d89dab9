//! The configuration the gateway serves with now, behind one atomic pointer.
//!
//! A reload builds a whole new [`Live`] and swaps it in with one store. Each request loads the
//! pointer once and keeps that snapshot (its store travels as an `Arc` in the request's
//! context), so requests in flight finish on the configuration they started with, new requests
//! see the new one, and no request ever sees part of each.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::admin::access::MutationAccess;
use crate::config::Cidr;
use crate::routing::Router;

/// Everything a reload may change without a restart.
pub struct Live {
    /// The stores and their upstreams.
    pub router: Router,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<Cidr>,
    /// Who may change state through the admin listener.
    pub access: MutationAccess,
}

/// The shared pointer to the [`Live`] configuration; clones share it.
#[derive(Clone)]
pub struct Current(Arc<ArcSwap<Live>>);

impl Current {
    pub fn new(live: Live) -> Current {
        Current(Arc::new(ArcSwap::from_pointee(live)))
    }

    /// The configuration now; keep it for the whole request.
    pub fn snapshot(&self) -> Arc<Live> {
        self.0.load_full()
    }

    /// Serve with `live` from now on; returns the one it replaces.
    pub fn replace(&self, live: Live) -> Arc<Live> {
        self.0.swap(Arc::new(live))
    }
}
