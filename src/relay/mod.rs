//! The XML relay: a listener in front of one legacy farm's XML service, for the StoreFront (or
//! Web Interface) servers that still talk NFuse to the farm themselves. Each request is read with
//! the product's NFuse reader and checked before it reaches a broker; the broker's answer goes
//! back as it was sent (docs/relay.md).
//!
//! - [`policy`]: the allow-list per source and the active-session safeguard (pure).
//! - [`throttle`]: failed password logons per user and per source, bounded.
//! - [`forward`]: one request to the farm's brokers, with failover for read-only requests.
//! - [`service`]: the Pingora app: HTTP framing, size cap, the decision, the answer, metrics.

pub mod forward;
pub mod policy;
pub mod service;
pub mod throttle;

pub use service::{RelayApp, RelayHealth};
