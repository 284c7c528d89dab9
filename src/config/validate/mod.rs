//! [`FileConfig`] → [`Config`]: every rule a file must meet, each failure reported with its key
//! path and a fix. All problems are collected, not just the first.

mod canary;
mod farms;
mod relays;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::error::{ConfigIssue, Issues};
use super::file::{ActiveSessionsConfig, FileConfig, StoreConfig, StoreFrontConfig};
use super::file::{ListenEntry, TlsListenConfig};
use super::file::{DEFAULT_LISTEN, MAX_BODY_BYTES_CEILING};
use super::runtime::{
    ActiveSessionPolicy, Backend, ChallengeTemplate, Clients, Config, Store, StoreFront,
    TlsListener,
};
use crate::config::cidr::Cidr;
use crate::protocol::url::{AbsoluteUrl, UrlMap};

/// Smallest body limit that still fits a real sessionparams document.
const MIN_BODY_BYTES: usize = 256;
/// Longest timeout accepted (5 minutes): anything longer is a typo in milliseconds.
const MAX_TIMEOUT_MS: u64 = 300_000;

/// Validate a parsed file.
pub fn validate(file: FileConfig) -> Result<Config, Vec<ConfigIssue>> {
    let mut issues = Issues::default();
    let (listen, tls_listeners, admin_listen) = listeners(&file, &mut issues);
    process(&file, &mut issues);
    let clients = clients(&file, &mut issues);
    let session_id_key_file = session_id_key_file(&file, &mut issues);
    let stores = stores(&file, &mut issues);
    let admin_token_file = admin_token_file(&file, admin_listen, &mut issues);
    let trusted_proxies = networks("trusted_proxies", &file.trusted_proxies, &mut issues);
    let xml_relays = relays::relays(&file.xml_relays, &listen, admin_listen, &mut issues);
    let watch_interval = watch_interval(&file, &mut issues);
    match (issues.0.is_empty(), admin_listen) {
        (true, Some(admin_listen)) => Ok(Config {
            listen,
            tls_listeners,
            admin_listen,
            threads: file.threads,
            grace_period_seconds: file.grace_period_seconds,
            upgrade_socket: file.upgrade_socket.into(),
            clients,
            access_log: file.access_log.format,
            watch_interval,
            stores,
            session_id_key_file,
            admin_token_file,
            trusted_proxies,
            xml_relays,
        }),
        _ => Err(issues.0),
    }
}

/// A list of networks (`key[i]` names a bad one).
fn networks(key: &str, list: &[String], issues: &mut Issues) -> Vec<Cidr> {
    let mut networks = Vec::new();
    for (j, t) in list.iter().enumerate() {
        match Cidr::parse(t) {
            Some(c) => networks.push(c),
            None => issues.push(
                format!("{key}[{j}]"),
                format!("`{t}` is not a network"),
                "write address/prefix, e.g. 10.1.0.0/16 or fd00::/8 (prefix at most 32 or 128)",
            ),
        }
    }
    networks
}

/// The client listeners and the admin listener.
fn listeners(
    file: &FileConfig,
    issues: &mut Issues,
) -> (Vec<SocketAddr>, Vec<TlsListener>, Option<SocketAddr>) {
    let mut listen = Vec::new();
    let mut tls_listeners = Vec::new();
    if file.listen.is_empty() {
        issues.push(
            "listen",
            "no listener is configured",
            format!("add one, e.g. listen: [\"{DEFAULT_LISTEN}\"]"),
        );
    }
    for (i, entry) in file.listen.iter().enumerate() {
        let (key, l) = match entry {
            ListenEntry::Plain(l) => (format!("listen[{i}]"), l),
            ListenEntry::Tls(t) => (format!("listen[{i}].address"), &t.address),
        };
        let Ok(addr) = l.parse::<SocketAddr>() else {
            issues.push(
                key,
                format!("`{l}` is not an ip:port address"),
                "write it as 127.0.0.1:8080 or [::1]:8080",
            );
            continue;
        };
        if listen.contains(&addr) {
            issues.push(
                key,
                format!("`{addr}` is listed twice"),
                "list each address once",
            );
        }
        listen.push(addr);
        if let ListenEntry::Tls(t) = entry {
            tls_listeners.push(tls_listener(i, addr, t, issues));
        }
    }
    let admin_listen = admin_listen(file, &listen, issues);
    (listen, tls_listeners, admin_listen)
}

/// The admin listener, on an address of its own.
fn admin_listen(
    file: &FileConfig,
    listen: &[SocketAddr],
    issues: &mut Issues,
) -> Option<SocketAddr> {
    match file.admin_listen.parse::<SocketAddr>() {
        Ok(a) => {
            if listen.contains(&a) {
                issues.push(
                    "admin_listen",
                    "is also a client listener",
                    "give the admin listener its own port",
                );
            }
            Some(a)
        }
        Err(_) => {
            issues.push(
                "admin_listen",
                format!("`{}` is not an ip:port address", file.admin_listen),
                "write it as 127.0.0.1:9100",
            );
            None
        }
    }
}

/// An HTTPS listener, `listen[index]`; its files are read in wiring.
fn tls_listener(
    index: usize,
    addr: SocketAddr,
    t: &TlsListenConfig,
    issues: &mut Issues,
) -> TlsListener {
    for (field, value) in [
        ("certificate_file", &t.certificate_file),
        ("key_file", &t.key_file),
    ] {
        if value.is_empty() {
            issues.push(
                format!("listen[{index}].{field}"),
                "is empty",
                "name a PEM file, e.g. /etc/sessiongate/tls/gateway.pem",
            );
        }
    }
    TlsListener {
        index,
        addr,
        certificate_file: t.certificate_file.clone().into(),
        key_file: t.key_file.clone().into(),
        http2: t.http2,
    }
}

/// Settings of the process: threads and the upgrade socket.
fn process(file: &FileConfig, issues: &mut Issues) {
    // A Unix socket path holds at most 107 bytes (sun_path).
    if !file.upgrade_socket.starts_with('/') || file.upgrade_socket.len() > 107 {
        issues.push(
            "upgrade_socket",
            format!(
                "`{}` is not an absolute path of at most 107 bytes",
                file.upgrade_socket
            ),
            "use a path such as /run/sessiongate/upgrade.sock",
        );
    }
    if !(1..=64).contains(&file.threads) {
        issues.push(
            "threads",
            format!("{} is out of range", file.threads),
            "use 1 to 64",
        );
    }
}

/// The bounds on client connections.
fn clients(file: &FileConfig, issues: &mut Issues) -> Clients {
    let c = &file.clients;
    if !(1..=1_000_000).contains(&c.max_connections) {
        issues.push(
            "clients.max_connections",
            format!("{} is out of range", c.max_connections),
            "use 1 to 1000000 (and a file descriptor limit above it)",
        );
    }
    Clients {
        header_timeout: timeout(
            "clients.header_timeout_ms".into(),
            c.header_timeout_ms,
            issues,
        ),
        body_timeout: timeout("clients.body_timeout_ms".into(), c.body_timeout_ms, issues),
        idle_timeout: timeout("clients.idle_timeout_ms".into(), c.idle_timeout_ms, issues),
        max_connections: c.max_connections,
    }
}

/// How often a watched file is read (`None`: not watched). Under 100 ms is a busy loop; over
/// 5 minutes a ConfigMap change would wait longer than any operator does.
fn watch_interval(file: &FileConfig, issues: &mut Issues) -> Option<Duration> {
    let r = &file.reload;
    if !(100..=MAX_TIMEOUT_MS).contains(&r.watch_interval_ms) {
        issues.push(
            "reload.watch_interval_ms",
            format!("{} is out of range", r.watch_interval_ms),
            format!("use 100 to {MAX_TIMEOUT_MS} (milliseconds)"),
        );
        return None;
    }
    r.watch.then(|| Duration::from_millis(r.watch_interval_ms))
}

/// Every store, each path and name used once, no store inside another.
fn stores(file: &FileConfig, issues: &mut Issues) -> Vec<Arc<Store>> {
    // A gateway that only relays XML has no store to serve.
    if file.stores.is_empty() && file.xml_relays.is_empty() {
        issues.push(
            "stores",
            "no store is configured",
            "add at least one store with path, public_url and storefront",
        );
    }
    let mut stores = Vec::new();
    let mut paths = HashSet::new();
    let mut names = HashSet::new();
    for (i, s) in file.stores.iter().enumerate() {
        let key = format!("stores[{i}]");
        let Some(store) = store(&key, s, issues) else {
            continue;
        };
        if !paths.insert(store.path.to_ascii_lowercase()) {
            issues.push(
                format!("{key}.path"),
                format!("`{}` is used by another store", store.path),
                "give each store its own path",
            );
        }
        if !names.insert(store.name.clone()) {
            issues.push(
                format!("{key}.name"),
                format!("`{}` is used by another store", store.name),
                "set a distinct name:",
            );
        }
        stores.push(Arc::new(store));
    }
    for a in &stores {
        for b in &stores {
            let (pa, pb) = (a.path.to_ascii_lowercase(), b.path.to_ascii_lowercase());
            if pa != pb && (pb.is_empty() || pa.starts_with(&format!("{pb}/"))) {
                issues.push(
                    format!("stores (path {})", a.path),
                    format!("lies inside the store at `{}`", b.path),
                    "stores may not nest; move one of them",
                );
            }
        }
    }
    stores
}

/// A path such as `/Citrix/Store`: leading slash, no trailing slash, no query, no empty segment.
fn normalize_path(key: &str, path: &str, issues: &mut Issues) -> Option<String> {
    let trimmed = path.trim_end_matches('/');
    let ok = path.starts_with('/')
        && !trimmed.contains("//")
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-._~".contains(&b));
    if ok {
        Some(trimmed.to_string())
    } else {
        issues.push(
            key,
            format!("`{path}` is not a plain absolute path"),
            "use a path such as /Citrix/Store (letters, digits, - . _ ~ and /)",
        );
        None
    }
}

fn default_name(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or("");
    let name: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "root".to_string()
    } else {
        name
    }
}

fn header_safe(value: &str) -> bool {
    !value.chars().any(|c| c.is_control() || c == '"')
}

/// The session-id key file, required when a store has farms; it is read in wiring.
fn session_id_key_file(file: &FileConfig, issues: &mut Issues) -> Option<std::path::PathBuf> {
    let needed = file.stores.iter().any(|s| s.farms.is_some());
    if needed && file.session_id_key_file.is_none() {
        issues.push(
            "session_id_key_file",
            "is required when a store has farms (it signs the session ids clients get)",
            "create one with `head -c 32 /dev/urandom | base64 > /etc/sessiongate/session-id.key` and name it here; give every gateway instance the same file",
        );
    }
    file.session_id_key_file.as_ref().map(Into::into)
}

/// The admin token file: required when a store has a canary (whose share `POST /canary/...`
/// changes) and the admin listener is reachable from other hosts. It is read in wiring.
fn admin_token_file(
    file: &FileConfig,
    admin_listen: Option<SocketAddr>,
    issues: &mut Issues,
) -> Option<std::path::PathBuf> {
    let canary = file
        .stores
        .iter()
        .any(|s| s.storefront.as_ref().is_some_and(|sf| sf.canary.is_some()));
    let exposed = admin_listen.is_some_and(|a| !a.ip().is_loopback());
    match &file.admin_token_file {
        Some(f) if f.is_empty() => issues.push(
            "admin_token_file",
            "is empty",
            "name a file holding the token, or remove the key",
        ),
        None if canary && exposed => issues.push(
            "admin_token_file",
            "is required when a store has a canary and admin_listen is not on loopback (anyone who reaches it could change the share)",
            "create one with `head -c 32 /dev/urandom | base64 > /etc/sessiongate/admin.token` and name it here, or listen on 127.0.0.1",
        ),
        _ => {}
    }
    file.admin_token_file.as_ref().map(Into::into)
}

/// The runtime policy of a configured one.
fn policy(config: ActiveSessionsConfig) -> ActiveSessionPolicy {
    match config {
        ActiveSessionsConfig::Allow => ActiveSessionPolicy::Allow,
        ActiveSessionsConfig::Strip => ActiveSessionPolicy::Strip,
        ActiveSessionsConfig::Reject => ActiveSessionPolicy::Reject,
    }
}

/// `host:port` entries (a name or an address, IPv6 in brackets, and a port); they are resolved
/// in wiring, where `-t` also tries them.
fn addresses(key: &str, entries: &[String], what: &str, issues: &mut Issues) -> Vec<String> {
    if entries.is_empty() {
        issues.push(key, "is empty", format!("list the {what} as host:port"));
    }
    for (j, entry) in entries.iter().enumerate() {
        if !host_port(entry) {
            issues.push(
                format!("{key}[{j}]"),
                format!("`{entry}` is not host:port"),
                "write host:port with a port, e.g. 10.0.0.11:80",
            );
        }
    }
    entries.to_vec()
}

/// `name:port`, `1.2.3.4:port` or `[v6]:port`.
fn host_port(entry: &str) -> bool {
    if entry.parse::<SocketAddr>().is_ok() {
        return true;
    }
    let Some((host, port)) = entry.rsplit_once(':') else {
        return false;
    };
    port.parse::<u16>().is_ok_and(|p| p > 0)
        && !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

/// `host:` of an upstream section, which is also the TLS name.
fn check_host(key: &str, host: Option<&String>, tls: bool, issues: &mut Issues) {
    if let Some(h) = host {
        if h.is_empty()
            || !h
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        {
            issues.push(
                format!("{key}.host"),
                format!("`{h}` is not a host name"),
                "give the name the servers answer to, e.g. storefront.corp.local",
            );
        }
    }
    if tls && host.is_none() {
        issues.push(
            format!("{key}.host"),
            "is required with tls: true (the certificate is checked against it)",
            "set host: to the name in the servers' certificate",
        );
    }
}

/// `ca_file:` of an upstream section: only meaningful over TLS (`tls` says whether it is); the
/// file itself is read in wiring.
fn check_ca_file(key: &str, ca_file: Option<&String>, tls: bool, when: &str, issues: &mut Issues) {
    match ca_file {
        Some(f) if f.is_empty() => issues.push(
            format!("{key}.ca_file"),
            "is empty",
            "name a PEM file of CA certificates, or leave ca_file out for the system's roots",
        ),
        Some(_) if !tls => issues.push(
            format!("{key}.ca_file"),
            format!("only applies {when}"),
            "remove ca_file, or talk HTTPS to these servers",
        ),
        _ => {}
    }
}

fn store(key: &str, s: &StoreConfig, issues: &mut Issues) -> Option<Store> {
    let path = normalize_path(&format!("{key}.path"), &s.path, issues);
    let name = s
        .name
        .clone()
        .unwrap_or_else(|| default_name(path.as_deref().unwrap_or("")));
    let name_ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !name_ok {
        issues.push(
            format!("{key}.name"),
            format!("`{name}` cannot be a metric label"),
            "use 1-32 characters of a-z, 0-9, _ and -",
        );
    }
    let public_url = s.public_url.trim_end_matches('/').to_string();
    match AbsoluteUrl::parse(&public_url) {
        Some(u) if !u.rest.contains(['?', '#']) && header_safe(&public_url) => {}
        _ => issues.push(
            format!("{key}.public_url"),
            format!("`{}` is not an absolute http(s) URL without query", s.public_url),
            "write the URL clients use for this store, e.g. https://workspace.example.com/Citrix/Store",
        ),
    }
    if !(MIN_BODY_BYTES..=MAX_BODY_BYTES_CEILING).contains(&s.max_body_bytes) {
        issues.push(
            format!("{key}.max_body_bytes"),
            format!("{} is out of range", s.max_body_bytes),
            format!("use {MIN_BODY_BYTES} to {MAX_BODY_BYTES_CEILING} (Pingora buffers at most 64 KiB of a request body)"),
        );
    }
    let challenge = challenge(key, s, &name, &public_url, issues);
    let backend = backend(key, s, &public_url, issues);
    Some(Store {
        name,
        path: path?,
        public_url,
        active_sessions: s.active_sessions.map_or(ActiveSessionPolicy::Allow, policy),
        max_body_bytes: s.max_body_bytes,
        challenge,
        backend: backend?,
    })
}

/// What the store's own CitrixAuth challenge says (`auth:`), with StoreFront's defaults.
fn challenge(
    key: &str,
    s: &StoreConfig,
    name: &str,
    public_url: &str,
    issues: &mut Issues,
) -> ChallengeTemplate {
    let realm = s.auth.realm.clone().unwrap_or_else(|| name.to_string());
    let locations = if s.auth.token_services.is_empty() {
        vec![format!("{public_url}Auth/auth/v1/token")]
    } else {
        s.auth.token_services.clone()
    };
    let serviceroot_hint = s
        .auth
        .serviceroot_hint
        .clone()
        .unwrap_or_else(|| format!("{public_url}/resources/v2"));
    if !header_safe(&realm) {
        issues.push(
            format!("{key}.auth.realm"),
            "holds a quote or a control character",
            "use a plain realm such as a GUID",
        );
    }
    for (j, l) in locations.iter().enumerate() {
        if AbsoluteUrl::parse(l).is_none() || !header_safe(l) || l.contains('|') {
            issues.push(
                format!("{key}.auth.token_services[{j}]"),
                format!("`{l}` is not an absolute URL"),
                "give the token service URL clients should use",
            );
        }
    }
    if AbsoluteUrl::parse(&serviceroot_hint).is_none() || !header_safe(&serviceroot_hint) {
        issues.push(
            format!("{key}.auth.serviceroot_hint"),
            format!("`{serviceroot_hint}` is not an absolute URL"),
            "give an absolute URL or leave it out",
        );
    }
    ChallengeTemplate {
        realm,
        locations,
        serviceroot_hint,
    }
}

/// Exactly one of `storefront:` and `farms:`.
fn backend(key: &str, s: &StoreConfig, public_url: &str, issues: &mut Issues) -> Option<Backend> {
    match (&s.storefront, &s.farms) {
        (Some(sf), None) => {
            if s.identity.is_some() {
                issues.push(
                    format!("{key}.identity"),
                    "only applies to stores with farms: (StoreFront verifies its own tokens)",
                    "remove identity: from this store",
                );
            }
            storefront(&format!("{key}.storefront"), sf, public_url, issues)
                .map(Backend::StoreFront)
        }
        (None, Some(f)) => {
            farms::farms(key, f, s.active_sessions, s.identity.as_ref(), issues).map(Backend::Farms)
        }
        (Some(_), Some(_)) => {
            issues.push(
                key,
                "has both storefront: and farms:",
                "a store is backed by StoreFront servers or by legacy farms; split it in two stores",
            );
            None
        }
        (None, None) => {
            issues.push(
                key,
                "has no backend",
                "add a storefront: section (upstreams, upstream_path) or a farms: list",
            );
            None
        }
    }
}

fn timeout(key: String, ms: u64, issues: &mut Issues) -> Duration {
    if ms == 0 || ms > MAX_TIMEOUT_MS {
        issues.push(
            key,
            format!("{ms} ms is out of range"),
            format!("use 1 to {MAX_TIMEOUT_MS} milliseconds"),
        );
    }
    Duration::from_millis(ms)
}

fn storefront(
    key: &str,
    sf: &StoreFrontConfig,
    public_url: &str,
    issues: &mut Issues,
) -> Option<StoreFront> {
    let (upstreams, weights) = canary::weighted(&format!("{key}.upstreams"), &sf.upstreams, issues);
    let health_check = sf
        .health_check
        .as_ref()
        .map(|h| canary::health_check(&format!("{key}.health_check"), h, issues));
    let canary = sf.canary.as_ref().map(|c| {
        Arc::new(canary::canary(
            &format!("{key}.canary"),
            c,
            health_check.as_ref(),
            issues,
        ))
    });
    check_host(key, sf.host.as_ref(), sf.tls, issues);
    check_ca_file(key, sf.ca_file.as_ref(), sf.tls, "with tls: true", issues);
    let upstream_path = if sf.upstream_path == "/" {
        Some(String::new())
    } else {
        normalize_path(&format!("{key}.upstream_path"), &sf.upstream_path, issues)
    };
    let connect_timeout = timeout(
        format!("{key}.connect_timeout_ms"),
        sf.connect_timeout_ms,
        issues,
    );
    let read_timeout = timeout(format!("{key}.read_timeout_ms"), sf.read_timeout_ms, issues);
    if !(1024..=64 * 1024 * 1024).contains(&sf.max_response_bytes) {
        issues.push(
            format!("{key}.max_response_bytes"),
            format!("{} is out of range", sf.max_response_bytes),
            "use 1024 to 67108864",
        );
    }
    let upstream_path = upstream_path?;
    // The map itself is built in wiring, from the resolved names; its inputs are checked here.
    let mut all = upstreams.clone();
    all.extend(canary.iter().flat_map(|c| c.upstreams.iter().cloned()));
    UrlMap::new(&all, &upstream_path, public_url).ok()?;
    Some(StoreFront {
        upstreams,
        upstream_path,
        tls: sf.tls,
        ca_file: sf.ca_file.clone().map(Into::into),
        host: sf.host.clone(),
        connect_timeout,
        read_timeout,
        max_response_bytes: sf.max_response_bytes,
        health_check_interval: (sf.health_check_interval_ms > 0)
            .then(|| Duration::from_millis(sf.health_check_interval_ms)),
        weights,
        health_check,
        canary,
    })
}
