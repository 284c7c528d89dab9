//! Request routing: which store a path belongs to, what it asks for, and the typed upstreams
//! behind each store. No I/O: the upstreams are built, and their health checks run, in wiring.

pub mod canary;
pub mod operation;
pub mod rollout;
pub mod upstreams;

use std::sync::Arc;

pub use operation::Operation;
pub use upstreams::{FarmUpstreams, Upstreams};

/// A store as the gateway runs it: its configuration and the upstreams built for it at start.
pub struct Store {
    pub config: Arc<crate::config::Store>,
    pub upstreams: Upstreams,
    /// The live canary, when the store has a canary pool (StoreFront stores only).
    pub rollout: Option<rollout::Rollout>,
}

/// The result of routing a request.
pub struct Route<'a> {
    pub store: &'a Arc<Store>,
    pub operation: Operation,
    /// Path below the store (no leading slash) plus the query, if any: the upstream path is
    /// `{upstream_path}/{rest}`.
    pub rest: &'a str,
}

/// Longest request path the router looks at.
const MAX_PATH_LEN: usize = 8 * 1024;

/// Finds the store of a request path.
pub struct Router {
    stores: Vec<Arc<Store>>,
}

impl Router {
    pub fn new(stores: Vec<Store>) -> Router {
        Router {
            stores: stores.into_iter().map(Arc::new).collect(),
        }
    }

    /// All stores, in configuration order.
    pub fn stores(&self) -> &[Arc<Store>] {
        &self.stores
    }

    /// The store named `name` (its configured `name`, the metric label), for the admin listener.
    pub fn by_name(&self, name: &str) -> Option<&Arc<Store>> {
        self.stores.iter().find(|s| s.config.name == name)
    }

    /// The stores with a canary, in configuration order, for the admin listener.
    pub fn canaries(&self) -> impl Iterator<Item = (&Arc<Store>, &rollout::Rollout)> {
        self.stores
            .iter()
            .filter_map(|s| s.rollout.as_ref().map(|r| (s, r)))
    }

    /// Route a request target (path and query). `None` when no store serves it, or when the path
    /// holds dot segments or backslashes that could climb out of the store on the upstream.
    pub fn route<'a>(&'a self, target: &'a str) -> Option<Route<'a>> {
        if target.len() > MAX_PATH_LEN {
            return None;
        }
        let path = target.split(['?', '#']).next().unwrap_or("");
        if path.contains('\\') || path.split('/').any(is_dot_segment) {
            return None;
        }
        for s in &self.stores {
            let base = s.config.path.as_str();
            let Some(head) = target.get(..base.len()) else {
                continue;
            };
            if !head.eq_ignore_ascii_case(base) {
                continue;
            }
            let tail = target.get(base.len()..).unwrap_or("");
            let rest = if tail.is_empty() || tail.starts_with('?') {
                tail
            } else if let Some(r) = tail.strip_prefix('/') {
                r
            } else {
                continue;
            };
            let rest_path = rest.split(['?', '#']).next().unwrap_or("");
            return Some(Route {
                store: s,
                operation: Operation::from_store_path(rest_path),
                rest,
            });
        }
        None
    }
}

/// `.` or `..`, also percent-encoded: one or two dots, each `.`, `%2e` or `%2E`. Read in place,
/// without decoding into a new string: this runs on every segment of every request.
fn is_dot_segment(segment: &str) -> bool {
    let mut rest = segment.as_bytes();
    let mut dots = 0;
    while !rest.is_empty() && dots < 3 {
        rest = match rest {
            [b'.', tail @ ..] | [b'%', b'2', b'e' | b'E', tail @ ..] => tail,
            _ => return false,
        };
        dots += 1;
    }
    rest.is_empty() && (dots == 1 || dots == 2)
}

#[cfg(test)]
mod tests;
