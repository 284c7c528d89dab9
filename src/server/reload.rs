//! Live reload of the configuration file: SIGHUP, `POST /reload` on the admin listener, and
//! (`reload.watch`) a change of the file's content, as when Kubernetes updates a mounted
//! ConfigMap.
//!
//! A reload reads the file, validates it and builds everything it names (pools, verifiers, key
//! files, certificates: the same work as `-t` and as a start), and only then swaps the new
//! [`Live`] in. Anything wrong leaves the running configuration serving, and says why in the log,
//! in the answer to `/reload` and in the metrics. Requests in flight finish on the configuration
//! they started with.
//!
//! What a running process cannot change (its listeners, threads, upgrade socket, client limits,
//! grace period, the watch itself, the XML relays) is kept as it is and reported as needing a restart (a
//! graceful upgrade with `-u` is one). An HTTPS listener's certificate and key files are read
//! again, and a renewed certificate is presented from the next handshake on. A store's canary keeps its live share and rollback across
//! a reload unless the file changes that store's `share_percent`: then the file's share applies.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use ring::digest;

use super::certificate::ListenerCertificate;
use super::health::HealthHandle;
use super::{admin_access, prepare, ServedCertificates};
use crate::backend::pool::Checked;
use crate::config::{self, Backend, Config, ConfigError};
use crate::live::{Current, Live};
use crate::metrics::{self, ReloadOutcome};
use crate::routing::Router;

/// Largest configuration file read; real ones are a few kilobytes.
const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// The SHA-256 of a configuration file's bytes: tells replicas and reloads apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigHash([u8; 32]);

impl ConfigHash {
    pub fn of(bytes: &[u8]) -> ConfigHash {
        let d = digest::digest(&digest::SHA256, bytes);
        ConfigHash(<[u8; 32]>::try_from(d.as_ref()).unwrap_or_default())
    }

    /// The first 64 bits in hex, as logs and `/reload` show it.
    pub fn short(&self) -> String {
        self.0.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// The first 48 bits as a number: exact in a Prometheus sample (a float64).
    pub fn metric_value(&self) -> f64 {
        let v = self
            .0
            .iter()
            .take(6)
            .fold(0u64, |v, b| (v << 8) | u64::from(*b));
        v as f64
    }
}

/// Read and validate the configuration file at `path`, with the hash of its bytes.
pub fn read(path: &Path) -> Result<(Config, ConfigHash), ConfigError> {
    let (text, hash) = read_text(path)?;
    Ok((config::from_yaml(&text, &path.display().to_string())?, hash))
}

/// The file's text, bounded, and the hash of its bytes.
fn read_text(path: &Path) -> Result<(String, ConfigHash), ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes))
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        let big = std::io::Error::other(format!("larger than {MAX_CONFIG_BYTES} bytes"));
        return Err(read_error(big));
    }
    let hash = ConfigHash::of(&bytes);
    let text = String::from_utf8(bytes)
        .map_err(|_| read_error(std::io::Error::other("not UTF-8 text")))?;
    Ok((text, hash))
}

/// What started a reload (logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Signal,
    Admin,
    Watch,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Signal => "sighup",
            Trigger::Admin => "admin",
            Trigger::Watch => "watch",
        }
    }
}

/// A reload that took effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// [`ConfigHash::short`] of the file now serving.
    pub hash: String,
    /// Keys whose change waits for a restart.
    pub restart_needed: Vec<&'static str>,
}

/// A configuration built whole, ready to serve.
struct Next {
    config: Config,
    hash: ConfigHash,
    live: Live,
    health: Vec<Checked>,
    certificates: Vec<(usize, ListenerCertificate)>,
}

/// What a reload changes in the running server.
pub struct Handles {
    /// The live configuration the proxy and the admin listener read.
    pub current: Current,
    /// The health checks.
    pub health: HealthHandle,
    /// The certificates the HTTPS listeners present.
    pub certificates: ServedCertificates,
}

/// What serves now, and the hash of the last file that failed (so a watch reports it once).
struct Serving {
    config: Config,
    hash: ConfigHash,
    failed: Option<ConfigHash>,
}

/// Reloads the configuration file a server was started with.
pub struct Reloader {
    path: PathBuf,
    handles: Handles,
    serving: Mutex<Serving>,
    /// One reload at a time: two at once could swap in the older file last.
    busy: tokio::sync::Mutex<()>,
}

impl Reloader {
    /// For a server started from `path` (`config` and `hash` are what serves now).
    pub fn new(path: PathBuf, config: Config, hash: ConfigHash, handles: Handles) -> Reloader {
        Reloader {
            path,
            handles,
            serving: Mutex::new(Serving {
                config,
                hash,
                failed: None,
            }),
            busy: tokio::sync::Mutex::new(()),
        }
    }

    /// Read, check and build the file, then serve with it; on any problem the running
    /// configuration stays, and the error says why.
    pub async fn reload(&self, trigger: Trigger) -> Result<Reloaded, ConfigError> {
        let _one = self.busy.lock().await;
        let path = self.path.clone();
        // Reading files and resolving names block: keep them off the serving threads.
        let built = tokio::task::spawn_blocking(move || build(&path))
            .await
            .unwrap_or_else(|e| {
                let source = std::io::Error::other(format!("the reload task failed: {e}"));
                let path = self.path.display().to_string();
                Err((ConfigError::Read { path, source }, None))
            });
        match built {
            Ok(next) => Ok(self.apply(next, trigger)),
            Err((error, hash)) => {
                self.lock().failed = hash;
                metrics::config_reload(ReloadOutcome::Failure);
                tracing::error!(
                    trigger = trigger.as_str(),
                    error = %error,
                    "configuration reload failed; the running configuration stays"
                );
                Err(error)
            }
        }
    }

    /// Whether the file's content differs from what serves and from the last failed attempt.
    pub fn file_changed(&self) -> bool {
        let Ok(bytes) = std::fs::read(&self.path) else {
            return false;
        };
        let hash = ConfigHash::of(&bytes);
        let serving = self.lock();
        hash != serving.hash && Some(hash) != serving.failed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Serving> {
        self.serving.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn apply(&self, next: Next, trigger: Trigger) -> Reloaded {
        let mut serving = self.lock();
        let restart_needed = restart_needed(&serving.config, &next.config);
        let handles = &self.handles;
        carry_canaries(&handles.current.snapshot().router, &next.live.router);
        crate::logging::access::set_format(next.config.access_log);
        handles.current.replace(next.live);
        handles.health.replace(next.health);
        // Renewed certificates, while the listeners are the ones running (else by index they
        // could land on another listener).
        if !restart_needed.contains(&"listen") {
            for (index, certificate) in &next.certificates {
                let served = handles.certificates.iter().find(|(i, _)| i == index);
                if let Some((_, served)) = served {
                    served.replace(certificate);
                }
            }
        }
        metrics::config_reload(ReloadOutcome::Success);
        metrics::config_loaded(Some(next.hash.metric_value()));
        let reloaded = Reloaded {
            hash: next.hash.short(),
            restart_needed,
        };
        tracing::info!(
            trigger = trigger.as_str(),
            hash = %reloaded.hash,
            stores = next.config.stores.len(),
            restart_needed = %reloaded.restart_needed.join(","),
            "configuration reloaded"
        );
        *serving = Serving {
            // What runs keeps the values that need a restart: they are what a later reload
            // compares with.
            config: keep_fixed(&serving.config, next.config),
            hash: next.hash,
            failed: None,
        };
        reloaded
    }
}

/// Everything `path` names, built; or the problems, with the file's hash when it was read.
fn build(path: &Path) -> Result<Next, (ConfigError, Option<ConfigHash>)> {
    let (text, hash) = read_text(path).map_err(|e| (e, None))?;
    let origin = path.display().to_string();
    let config = config::from_yaml(&text, &origin).map_err(|e| (e, Some(hash)))?;
    let prepared = prepare(&config);
    let access = admin_access(&config);
    let (prepared, access) = match (prepared, access) {
        (Ok(p), Ok(a)) => (p, a),
        (p, a) => {
            let mut issues = p.err().unwrap_or_default();
            issues.extend(a.err().unwrap_or_default());
            return Err((ConfigError::Invalid { origin, issues }, Some(hash)));
        }
    };
    let live = Live {
        router: prepared.router,
        trusted_proxies: config.trusted_proxies.clone(),
        access,
    };
    Ok(Next {
        health: prepared.health,
        certificates: prepared.certificates,
        config,
        hash,
        live,
    })
}

/// The keys of `next` that differ from `running` and that only a restart applies.
fn restart_needed(running: &Config, next: &Config) -> Vec<&'static str> {
    let mut keys = Vec::new();
    let mut differs = |key, changed: bool| {
        if changed {
            keys.push(key);
        }
    };
    differs("listen", running.listen != next.listen);
    // Certificate files are not in it: a reload renews what a listener presents.
    let tls = |c: &Config| -> Vec<_> {
        c.tls_listeners
            .iter()
            .map(|l| (l.index, l.addr, l.http2))
            .collect()
    };
    differs("listen", tls(running) != tls(next));
    differs("admin_listen", running.admin_listen != next.admin_listen);
    differs("threads", running.threads != next.threads);
    differs(
        "grace_period_seconds",
        running.grace_period_seconds != next.grace_period_seconds,
    );
    differs(
        "upgrade_socket",
        running.upgrade_socket != next.upgrade_socket,
    );
    differs("clients", running.clients != next.clients);
    differs("reload", running.watch_interval != next.watch_interval);
    differs("xml_relays", running.xml_relays != next.xml_relays);
    keys.dedup();
    keys
}

/// `next` with the values only a restart changes taken from `running`.
fn keep_fixed(running: &Config, next: Config) -> Config {
    Config {
        listen: running.listen.clone(),
        tls_listeners: running.tls_listeners.clone(),
        admin_listen: running.admin_listen,
        threads: running.threads,
        grace_period_seconds: running.grace_period_seconds,
        upgrade_socket: running.upgrade_socket.clone(),
        clients: running.clients,
        watch_interval: running.watch_interval,
        xml_relays: running.xml_relays.clone(),
        ..next
    }
}

/// The canary share a store's file section sets, if it has a canary.
fn configured_share(store: &crate::routing::Store) -> Option<f64> {
    match &store.config.backend {
        Backend::StoreFront(sf) => sf.canary.as_ref().map(|c| c.share_percent),
        Backend::Farms(_) => None,
    }
}

/// Each canary of `next` whose store (by name) had one with the same configured share takes
/// over its live state: an operator's share or a rollback is not undone by a reload.
fn carry_canaries(previous: &Router, next: &Router) {
    for store in next.stores() {
        let Some(rollout) = &store.rollout else {
            continue;
        };
        let Some(before) = previous.by_name(&store.config.name) else {
            continue;
        };
        if let (Some(old), true) = (
            &before.rollout,
            configured_share(before) == configured_share(store),
        ) {
            rollout.adopt(old);
        }
    }
}

/// The reload triggers that need a task: SIGHUP, and the file watch when configured.
pub struct Triggers {
    pub reloader: Arc<Reloader>,
    pub watch: Option<Duration>,
}

#[async_trait]
impl BackgroundService for Triggers {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        use tokio::signal::unix::{signal, SignalKind};
        // Registering replaces SIGHUP's default action, which ends the process.
        let mut hangup = match signal(SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGHUP; reload with POST /reload");
                None
            }
        };
        let mut tick = tokio::time::interval(self.watch.unwrap_or(Duration::from_secs(3600)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let trigger = tokio::select! {
                _ = shutdown.changed() => return,
                Some(()) = async { hangup.as_mut()?.recv().await } => Trigger::Signal,
                _ = tick.tick(), if self.watch.is_some() => {
                    if !self.reloader.file_changed() {
                        continue;
                    }
                    Trigger::Watch
                }
            };
            // The outcome is logged and counted by the reload itself.
            let _ = self.reloader.reload(trigger).await;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
