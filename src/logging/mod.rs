//! Logging: `RUST_LOG`-style filtering (default `info`) to standard error, with Pingora's own
//! `log` records carried into the same output; access lines in the configured format
//! ([`access`]).
//!
//! Secrets never reach a log line, at any level: Pingora's modules that print request or
//! response headers, raw request bytes or bodies at DEBUG and TRACE (headers carry
//! `Authorization` and cookies, bodies carry tickets and ICA files) are held at INFO whatever
//! `RUST_LOG` says, and the admin app's ERROR line that prints a malformed request's raw bytes is
//! dropped. The gateway's own lines name errors by kind, never by their raw context.
//!
//! One more line of Pingora's is dropped: `pingora_core::connectors` logs "failed to acquire reusable
//! stream" at ERROR when two tasks race for the same pooled upstream connection (the one handing
//! it back drops its lock a moment before its reference, and the one taking it sees the
//! reference still held). Nothing failed: the taker opens a new connection and the request goes
//! on. It is the only ERROR that module logs, so dropping that target's ERRORs loses nothing
//! else, and its WARN lines (data on an idle connection) are kept.

pub mod access;

use std::io::IsTerminal;

use access::{AccessFormat, AccessLine};

use tracing::{Level, Metadata};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{filter, EnvFilter, Layer};

/// Pingora's connector module, whose one ERROR line is the benign pool race.
const CONNECTORS_TARGET: &str = "pingora_core::connectors";
/// Targets (prefixes) of Pingora modules whose DEBUG and TRACE lines print headers, raw request
/// bytes, bodies or configuration text (see the reference notes on Pingora, §10.4).
const HEADER_PRINTING_TARGETS: &[&str] = &[
    "pingora_proxy",
    "pingora_core::protocols",
    "pingora_core::apps",
    "pingora_core::connectors",
    "pingora_core::server::configuration",
];
/// Pingora's `ServeHttp` app, which prints a malformed request's raw bytes at ERROR.
const HTTP_APP_TARGET: &str = "pingora_core::apps::http_app";

/// Is this an event logged as an error although nothing failed?
pub fn is_benign(meta: &Metadata<'_>) -> bool {
    *meta.level() == Level::ERROR && meta.target() == CONNECTORS_TARGET
}

/// Could this event print a secret (a header, raw request bytes, a body)?
pub fn may_print_secrets(meta: &Metadata<'_>) -> bool {
    let target = meta.target();
    let verbose = *meta.level() > Level::INFO;
    (verbose
        && HEADER_PRINTING_TARGETS
            .iter()
            .any(|t| target.starts_with(t)))
        || (*meta.level() == Level::ERROR && target == HTTP_APP_TARGET)
}

/// Is the event written at all (whatever `RUST_LOG` allows)?
pub fn is_written(meta: &Metadata<'_>) -> bool {
    !is_benign(meta) && !may_print_secrets(meta)
}

/// Is this an access line the structured access layer writes (rather than the plain one)?
fn is_structured_access(meta: &Metadata<'_>) -> bool {
    meta.target() == access::TARGET
        && matches!(access::format(), AccessFormat::Logfmt | AccessFormat::Json)
}

/// Is this a line for the plain layer: everything written but structured access lines, and
/// access lines only in the `text` format?
fn is_plain(meta: &Metadata<'_>) -> bool {
    is_written(meta) && (meta.target() != access::TARGET || access::format() == AccessFormat::Text)
}

/// Install the process-wide subscriber (once; later calls do nothing).
pub fn init() {
    let env = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // The most verbose level `RUST_LOG` lets through. Said on the outer filters too: a filter
    // without a hint counts as TRACE, and then every `log` record of Pingora's (a few DEBUG and
    // TRACE lines per request) is turned into a tracing event only to be dropped.
    let most = env().max_level_hint().unwrap_or(LevelFilter::TRACE);
    let plain = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(env())
        .with_filter(filter::filter_fn(is_plain).with_max_level_hint(most));
    let structured = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .event_format(AccessLine::configured())
        .with_filter(env())
        .with_filter(filter::filter_fn(is_structured_access).with_max_level_hint(most));
    let _ = tracing_subscriber::registry()
        .with(plain)
        .with(structured)
        .try_init();
}
