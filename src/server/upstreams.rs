//! From a validated configuration to the live objects behind each store: names resolved, key
//! files read, token verifiers built, pools made (with the balancers whose health checks the
//! server runs). Every problem is reported with its configuration key, like the file's own rules, so
//! `sessiongate -t` tries all of this too.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use pingora::http::{RequestHeader, ResponseHeader};
use pingora::lb::health_check::{HealthCheck, HttpHealthCheck, TcpHealthCheck};

use super::certificate::ListenerCertificate;
use crate::backend::farm::{FarmMember, Farms, NfuseHealthCheck};
use crate::backend::pool::{Checked, Pool};
use crate::backend::storefront::Servers;
use crate::backend::trust::Trust;
use crate::config::{
    Backend, Canary, Config, ConfigIssue, HttpCheck, IdentitySource, Issues, Store, StoreFront,
};
use crate::identity::{read_secret, SetupError, Verifier};
use crate::protocol::session_id::{SessionIdKey, MIN_KEY_LEN};
use crate::protocol::url::UrlMap;
use crate::routing::canary::{Guard, GuardSettings, Share, TagKey};
use crate::routing::rollout::Rollout;
use crate::routing::{self, FarmUpstreams, Router, Upstreams};

/// The live stores and the balancers whose health checks keep their pools current; and the
/// certificates of the HTTPS listeners (by their index in `listen`), loaded here so that `-t`
/// tries them with everything else.
pub struct Prepared {
    pub router: Router,
    pub health: Vec<Checked>,
    pub certificates: Vec<(usize, ListenerCertificate)>,
    /// The XML relays, with the health checks of their brokers (apart from `health`, which
    /// reloads replace).
    pub relays: super::relays::PreparedRelays,
}

/// How often, and how, a pool's servers are checked.
type Check = (Duration, Box<dyn HealthCheck + Send + Sync>);

/// Build everything `config` names that needs the outside world.
pub fn prepare(config: &Config) -> Result<Prepared, Vec<ConfigIssue>> {
    let mut issues = Issues::default();
    let mut health = Vec::new();
    let session_ids = session_id_key(config, &mut issues);
    let mut certificates = Vec::new();
    for listener in &config.tls_listeners {
        match ListenerCertificate::load(listener) {
            Ok(c) => certificates.push((listener.index, c)),
            Err(issue) => issues.0.push(issue),
        }
    }
    let mut stores = Vec::new();
    for (i, store) in config.stores.iter().enumerate() {
        let key = format!("stores[{i}]");
        let upstreams = match &store.backend {
            Backend::StoreFront(sf) => {
                servers(&key, store, sf, &mut health, &mut issues).map(Upstreams::StoreFront)
            }
            Backend::Farms(farms) => {
                let verifier = verifier(&format!("{key}.identity"), &farms.identity, &mut issues);
                let members = members(&key, store, &farms.list, &mut health, &mut issues);
                match (verifier, members, session_ids.clone()) {
                    (Some(verifier), Some(members), Some(session_ids)) => {
                        Some(Upstreams::Farms(FarmUpstreams {
                            farms: Farms {
                                members,
                                session_ids,
                            },
                            verifier,
                        }))
                    }
                    _ => None,
                }
            }
        };
        let rollout = match &store.backend {
            Backend::StoreFront(sf) => match &sf.canary {
                Some(c) => rollout(&format!("{key}.storefront.canary"), c, &mut issues),
                None => None,
            },
            Backend::Farms(_) => None,
        };
        if let Some(upstreams) = upstreams {
            stores.push(routing::Store {
                config: store.clone(),
                upstreams,
                rollout,
            });
        }
    }
    let relays = super::relays::prepare_relays(&config.xml_relays, &mut issues);
    if issues.0.is_empty() {
        Ok(Prepared {
            router: Router::new(stores),
            health,
            certificates,
            relays,
        })
    } else {
        Err(issues.0)
    }
}

/// The session-id key, when a store has farms.
fn session_id_key(config: &Config, issues: &mut Issues) -> Option<SessionIdKey> {
    let path = config.session_id_key_file.as_ref()?;
    // The same file rules as an HS256 secret: trailing whitespace dropped, 32 bytes at least.
    let key = read_secret(path)
        .map_err(|e| e.to_string())
        .and_then(|secret| SessionIdKey::new(&secret).map_err(|e| e.to_string()));
    match key {
        Ok(k) => Some(k),
        Err(problem) => {
            issues.push(
                "session_id_key_file",
                problem,
                format!("give a readable file of at least {MIN_KEY_LEN} random bytes, e.g. from `head -c 32 /dev/urandom | base64`"),
            );
            None
        }
    }
}

/// The live canary of a store: the launch-tag key read from its file, the forced-pool rule, the
/// guard. `None` (with an issue) when the key file is unusable.
fn rollout(key: &str, canary: &Canary, issues: &mut Issues) -> Option<Rollout> {
    let tags = read_secret(&canary.launch_key_file)
        .map_err(|e| e.to_string())
        .and_then(|secret| {
            TagKey::new(&secret).ok_or_else(|| "the key is shorter than 32 bytes".to_string())
        });
    let tags = match tags {
        Ok(t) => t,
        Err(problem) => {
            issues.push(
                format!("{key}.launch_key_file"),
                problem,
                "give a readable file of at least 32 random bytes, e.g. from `head -c 32 /dev/urandom | base64`",
            );
            return None;
        }
    };
    // The configuration checked the share's range; an impossible value keeps the canary off.
    let share = Share::from_percent(canary.share_percent).unwrap_or(Share::ZERO);
    let guard = canary.guard.as_ref().map(|g| {
        Guard::new(GuardSettings {
            window: g.window,
            buckets: g.buckets,
            significance: g.significance,
            min_canary_requests: g.min_canary_requests,
            latency_p99_margin: g.latency_p99_margin,
        })
    });
    Some(Rollout::new(share, canary.force.clone(), tags, guard))
}

/// Resolve `host:port` entries of `key` (each reported as `key[N]`).
fn resolve(key: &str, entries: &[String], issues: &mut Issues) -> Vec<SocketAddr> {
    let mut addrs = Vec::new();
    for (j, entry) in entries.iter().enumerate() {
        match entry.to_socket_addrs().map(|mut a| a.next()) {
            Ok(Some(addr)) => addrs.push(addr),
            _ => issues.push(
                format!("{key}[{j}]"),
                format!("`{entry}` does not resolve to an address"),
                "write host:port with a name this host resolves, or an address, e.g. 10.0.0.11:80",
            ),
        }
    }
    addrs
}

/// A pool of `addrs`, health-checked when `check` is given (its service joins `health`).
fn pool(
    key: &str,
    name: &str,
    servers: &[(SocketAddr, usize)],
    check: Option<Check>,
    health: &mut Vec<Checked>,
    issues: &mut Issues,
) -> Option<Pool> {
    Pool::weighted(name, servers, check)
        .map(|(pool, service)| {
            health.extend(service);
            pool
        })
        .map_err(|e| {
            issues.push(
                key,
                format!("cannot build the pool: {e}"),
                "check the addresses",
            )
        })
        .ok()
}

/// What to do about a CA file that cannot be used.
const CA_FILE_FIX: &str = "name a readable PEM file of the CA certificates that issued the servers' certificates (-----BEGIN CERTIFICATE----- blocks only)";

/// The CA certificates of `ca_file` at `key`: `Some(None)` without one (the system's roots),
/// `None` when the file cannot be used (reported).
fn trust(
    key: &str,
    ca_file: Option<&std::path::Path>,
    issues: &mut Issues,
) -> Option<Option<Trust>> {
    let Some(path) = ca_file else {
        return Some(None);
    };
    match Trust::load(path) {
        Ok(t) => Some(Some(t)),
        Err(e) => {
            issues.push(key, e.to_string(), CA_FILE_FIX);
            None
        }
    }
}

/// The StoreFront servers of store `key`: the stable pool and the canary pool, if any.
fn servers(
    key: &str,
    store: &Store,
    sf: &StoreFront,
    health: &mut Vec<Checked>,
    issues: &mut Issues,
) -> Option<Servers> {
    let key = format!("{key}.storefront");
    let stable_key = format!("{key}.upstreams");
    let addrs = resolve(&stable_key, &sf.upstreams, issues);
    let canary_key = format!("{key}.canary.upstreams");
    let canary_addrs = sf
        .canary
        .as_ref()
        .map(|c| (c, resolve(&canary_key, &c.upstreams, issues)));
    if addrs.len() != sf.upstreams.len()
        || canary_addrs
            .as_ref()
            .is_some_and(|(c, a)| a.len() != c.upstreams.len())
    {
        return None;
    }
    // Every name the servers of both pools go by: as configured, as resolved, and the Host name.
    let mut names: Vec<String> = sf.upstreams.clone();
    names.extend(addrs.iter().map(SocketAddr::to_string));
    if let Some((c, a)) = &canary_addrs {
        names.extend(c.upstreams.iter().cloned());
        names.extend(a.iter().map(SocketAddr::to_string));
    }
    let url_map = UrlMap::new(
        &names
            .iter()
            .chain(sf.host.iter())
            .cloned()
            .collect::<Vec<_>>(),
        &sf.upstream_path,
        &store.public_url,
    )
    .ok()?;
    names.extend(sf.host.iter().cloned());
    names.retain(|a| !a.is_empty());
    names.sort();
    names.dedup();
    let trust = trust(&format!("{key}.ca_file"), sf.ca_file.as_deref(), issues)?;
    let stable = weighted(&addrs, &sf.weights);
    let check = health_check(
        sf,
        trust.as_ref(),
        &sf.upstreams,
        sf.health_check.as_ref(),
        sf.health_check_interval,
    );
    let stable_pool = pool(&stable_key, &store.name, &stable, check, health, issues)?;
    let canary = match &canary_addrs {
        Some((c, a)) => {
            let servers = weighted(a, &c.weights);
            let check = health_check(
                sf,
                trust.as_ref(),
                &c.upstreams,
                c.health_check.as_ref(),
                sf.health_check_interval,
            );
            let name = format!("{} canary", store.name);
            Some(pool(&canary_key, &name, &servers, check, health, issues)?)
        }
        None => None,
    };
    Some(Servers {
        settings: Arc::new(sf.clone()),
        pool: stable_pool,
        canary,
        url_map,
        names,
        trust,
    })
}

/// Each resolved server with its configured weight.
fn weighted(addrs: &[SocketAddr], weights: &[u32]) -> Vec<(SocketAddr, usize)> {
    addrs
        .iter()
        .enumerate()
        .map(|(j, a)| (*a, weights.get(j).map_or(1, |w| *w as usize)))
        .collect()
}

/// The health check of a pool of `servers`: HTTP when configured (over TLS checked against
/// `trust`, as requests are), else the TCP check at `tcp_interval` (if on).
fn health_check(
    sf: &StoreFront,
    trust: Option<&Trust>,
    servers: &[String],
    http: Option<&HttpCheck>,
    tcp_interval: Option<Duration>,
) -> Option<Check> {
    match http {
        Some(h) => Some((h.interval, http_check(sf, trust, servers, h))),
        None => tcp_interval.map(|interval| {
            let mut tcp = TcpHealthCheck::new();
            tcp.consecutive_failure = 1;
            tcp.consecutive_success = 1;
            (interval, tcp as Box<dyn HealthCheck + Send + Sync>)
        }),
    }
}

/// An HTTP check asking `h.path` and expecting `h.status`. Pingora's check sends one `Host` to
/// every server of a pool: the store's `host`, else the first server's address as configured.
fn http_check(
    sf: &StoreFront,
    trust: Option<&Trust>,
    servers: &[String],
    h: &HttpCheck,
) -> Box<dyn HealthCheck + Send + Sync> {
    let host = sf
        .host
        .clone()
        .or_else(|| servers.first().cloned())
        .unwrap_or_default();
    let mut check = HttpHealthCheck::new(&host, sf.tls);
    if let Ok(req) = RequestHeader::build("GET", h.path.as_bytes(), None) {
        let mut req = req;
        // The path is validated plain ASCII and the host a validated name: neither can fail.
        let _ = req.insert_header(http::header::HOST, host.as_str());
        let _ = req.insert_header(http::header::USER_AGENT, "sessiongate-health-check");
        check.req = req;
    }
    let expected = h.status;
    check.validator = Some(Box::new(move |resp: &ResponseHeader| {
        if resp.status.as_u16() == expected {
            Ok(())
        } else {
            pingora::Error::e_explain(
                pingora::ErrorType::CustomCode("unexpected status", resp.status.as_u16()),
                "during the HTTP health check",
            )
        }
    }));
    check.peer_template.options.connection_timeout = Some(sf.connect_timeout.min(h.timeout));
    check.peer_template.options.total_connection_timeout = Some(h.timeout);
    check.peer_template.options.read_timeout = Some(h.timeout);
    check.peer_template.options.write_timeout = Some(h.timeout);
    if let Some(trust) = trust {
        trust.apply(&mut check.peer_template);
    }
    check.consecutive_failure = h.failures;
    check.consecutive_success = h.successes;
    Box::new(check)
}

/// The farms of store `key`, each with its pool of brokers.
fn members(
    key: &str,
    store: &Store,
    farms: &[Arc<crate::config::Farm>],
    health: &mut Vec<Checked>,
    issues: &mut Issues,
) -> Option<Vec<FarmMember>> {
    let members: Vec<FarmMember> = farms
        .iter()
        .enumerate()
        .filter_map(|(j, farm)| {
            let name = format!("{} farm {}", store.name, farm.name);
            member(&format!("{key}.farms[{j}]"), &name, farm, health, issues)
        })
        .collect();
    (members.len() == farms.len()).then_some(members)
}

/// One farm (at `key`) with its pool of brokers, health-checked with NFuse when configured;
/// `name` names the pool's health-check service.
pub fn member(
    key: &str,
    name: &str,
    farm: &Arc<crate::config::Farm>,
    health: &mut Vec<Checked>,
    issues: &mut Issues,
) -> Option<FarmMember> {
    let trust = trust(&format!("{key}.ca_file"), farm.ca_file.as_deref(), issues)?;
    let key = format!("{key}.brokers");
    let addrs = resolve(&key, &farm.brokers, issues);
    if addrs.len() != farm.brokers.len() {
        return None;
    }
    let check = match farm.health_check_interval {
        Some(interval) => match NfuseHealthCheck::new(farm.clone(), trust.clone()) {
            Ok(check) => Some((
                interval,
                Box::new(check) as Box<dyn HealthCheck + Send + Sync>,
            )),
            Err(e) => {
                issues.push(
                    &key,
                    e.to_string(),
                    "report this: the health check request is fixed",
                );
                return None;
            }
        },
        None => None,
    };
    let pool = pool(&key, name, &weighted(&addrs, &[]), check, health, issues)?;
    Some(FarmMember {
        farm: farm.clone(),
        pool,
        trust,
    })
}

/// The token verifier of a farm-backed store, `key` being `stores[N].identity`.
fn verifier(
    key: &str,
    config: &crate::config::IdentityConfig,
    issues: &mut Issues,
) -> Option<Arc<Verifier>> {
    match Verifier::new(config) {
        Ok(v) => Some(Arc::new(v)),
        Err(e) => {
            let (field, fix) = setup_issue(&config.source, &e);
            issues.push(format!("{key}.{field}"), e.to_string(), fix);
            None
        }
    }
}

/// The key under `identity` a setup error is about, and how to fix it.
fn setup_issue(source: &IdentitySource, e: &SetupError) -> (&'static str, &'static str) {
    let file = match source {
        IdentitySource::Jwt(_) => "jwt.key_file",
        IdentitySource::Introspection(_) => "introspection.client_secret_file",
    };
    match e {
        SetupError::Read { .. } | SetupError::TooLarge { .. } => {
            (file, "name a readable key file of this host")
        }
        SetupError::ShortSecretFile { .. } | SetupError::ShortSecret => (
            file,
            "use a secret of at least 32 random bytes, e.g. from `head -c 32 /dev/urandom | base64`",
        ),
        SetupError::BadKey { .. } | SetupError::PrivateKey { .. } => (
            file,
            "give the issuer's PEM public key for the configured algorithm",
        ),
        SetupError::Leeway => ("jwt.leeway_seconds", "use a leeway of at most a day"),
        SetupError::Url => (
            "introspection.url",
            "give http://host[:port]/path or https://...",
        ),
        SetupError::Mint(_) => (file, "check the key file"),
        SetupError::Trust(_) => ("introspection.ca_file", CA_FILE_FIX),
    }
}
