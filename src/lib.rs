//! sessiongate: a Pingora gateway for the Citrix StoreFront Sessions Service, in front of
//! StoreFront stores or, speaking NFuse, legacy XenApp/XenDesktop farms.
//!
//! # Layout
//! - [`protocol`]: pure wire formats (media types, CitrixAuth, sessionparams, sessionState, NFuse,
//!   ICA files, signed session ids, ...).
//! - [`config`]: YAML → validated runtime configuration.
//! - [`routing`]: store and operation of a request path; the typed upstreams of each store.
//! - [`backend`]: I/O with the servers behind a store (StoreFront servers, farm XML brokers), and
//!   the work on their answers.
//! - [`identity`]: token verification (JWT, RFC 7662 introspection) for farm-backed stores.
//! - [`proxy`]: the Pingora `ProxyHttp` dispatcher and the one error → HTTP mapping.
//! - [`relay`]: the XML relay, a filtering NFuse listener in front of one farm's brokers.
//! - [`metrics`], [`logging`]: every metric name and label set; log output and its filters.
//! - [`admin`], [`server`], [`cli`], [`demo`]: admin listener, wiring (live objects from the
//!   configuration, the Pingora server), command line, demo.
//! - [`sim`]: the simulated StoreFront store and legacy farm used by the demo and the tests.
#![forbid(unsafe_code)]

pub mod admin;
pub mod backend;
pub mod cli;
pub mod config;
pub mod demo;
pub mod identity;
pub mod live;
pub mod logging;
pub mod metrics;
pub mod protocol;
pub mod proxy;
pub mod relay;
pub mod routing;
pub mod server;
pub mod sim;
