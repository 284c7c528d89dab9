//! Logging: `RUST_LOG`-style filtering (default `info`) to standard error, with Pingora's own
//! `log` records carried into the same output.
//!
//! One line of Pingora's is dropped: `pingora_core::connectors` logs "failed to acquire reusable
//! stream" at ERROR when two tasks race for the same pooled upstream connection (the one handing
//! it back drops its lock a moment before its reference, and the one taking it sees the
//! reference still held). Nothing failed: the taker opens a new connection and the request goes
//! on. It is the only ERROR that module logs, so dropping that target's ERRORs loses nothing
//! else, and its WARN lines (data on an idle connection) are kept.

use std::io::IsTerminal;

use tracing::{Level, Metadata};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{filter, EnvFilter, Layer};

/// Pingora's connector module, whose one ERROR line is the benign pool race.
const CONNECTORS_TARGET: &str = "pingora_core::connectors";

/// Is this an event logged as an error although nothing failed?
pub fn is_benign(meta: &Metadata<'_>) -> bool {
    *meta.level() == Level::ERROR && meta.target() == CONNECTORS_TARGET
}

/// Install the process-wide subscriber (once; later calls do nothing).
pub fn init() {
    let env = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(env)
        .with_filter(filter::filter_fn(|meta| !is_benign(meta)));
    let _ = tracing_subscriber::registry().with(output).try_init();
}
