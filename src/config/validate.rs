//! [`FileConfig`] → [`Config`]: every rule a file must meet, each failure reported with its key
//! path and a fix. All problems are collected, not just the first.

use std::collections::HashSet;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::error::ConfigIssue;
use super::file::{
    ActiveSessionsConfig, FarmConfig, FarmHostsConfig, FileConfig, IdentityFileConfig,
    JwtAlgorithmConfig, StoreConfig, StoreFrontConfig,
};
use super::file::{DEFAULT_LISTEN, MAX_BODY_BYTES_CEILING};
use super::runtime::{
    ActiveSessionPolicy, Backend, ChallengeTemplate, Config, Farm, FarmHosts, Farms, Store,
    StoreFront,
};
use crate::identity::{
    read_secret, IdentityConfig, IdentitySource, IntrospectionConfig, JwtAlgorithm, JwtConfig,
    Verifier,
};
use crate::protocol::session_id::{SessionIdKey, MAX_FIELD_LEN, MIN_KEY_LEN};
use crate::protocol::url::{AbsoluteUrl, UrlMap};

/// Smallest body limit that still fits a real sessionparams document.
const MIN_BODY_BYTES: usize = 256;
/// Longest timeout accepted (5 minutes): anything longer is a typo in milliseconds.
const MAX_TIMEOUT_MS: u64 = 300_000;

struct Issues(Vec<ConfigIssue>);

impl Issues {
    fn push(&mut self, key: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) {
        self.0.push(ConfigIssue {
            key: key.into(),
            problem: problem.into(),
            fix: fix.into(),
        });
    }
}

/// Validate a parsed file.
pub fn validate(file: FileConfig) -> Result<Config, Vec<ConfigIssue>> {
    let mut issues = Issues(Vec::new());

    let mut listen = Vec::new();
    if file.listen.is_empty() {
        issues.push(
            "listen",
            "no listener is configured",
            format!("add one, e.g. listen: [\"{DEFAULT_LISTEN}\"]"),
        );
    }
    for (i, l) in file.listen.iter().enumerate() {
        match l.parse::<SocketAddr>() {
            Ok(a) => listen.push(a),
            Err(_) => issues.push(
                format!("listen[{i}]"),
                format!("`{l}` is not an ip:port address"),
                "write it as 127.0.0.1:8080 or [::1]:8080",
            ),
        }
    }
    let admin_listen = match file.admin_listen.parse::<SocketAddr>() {
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
    };
    if !(1..=64).contains(&file.threads) {
        issues.push(
            "threads",
            format!("{} is out of range", file.threads),
            "use 1 to 64",
        );
    }

    if file.stores.is_empty() {
        issues.push(
            "stores",
            "no store is configured",
            "add at least one store with path, public_url and storefront",
        );
    }
    let session_ids = session_id_key(&file, &mut issues);
    let mut stores = Vec::new();
    let mut paths = HashSet::new();
    let mut names = HashSet::new();
    for (i, s) in file.stores.iter().enumerate() {
        let key = format!("stores[{i}]");
        if let Some(store) = store(&key, s, session_ids.as_ref(), &mut issues) {
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

    match (issues.0.is_empty(), admin_listen) {
        (true, Some(admin_listen)) => Ok(Config {
            listen,
            admin_listen,
            threads: file.threads,
            grace_period_seconds: file.grace_period_seconds,
            stores,
        }),
        _ => Err(issues.0),
    }
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

/// The session-id key, when farms need one.
fn session_id_key(file: &FileConfig, issues: &mut Issues) -> Option<SessionIdKey> {
    let needed = file.stores.iter().any(|s| s.farms.is_some());
    let Some(path) = &file.session_id_key_file else {
        if needed {
            issues.push(
                "session_id_key_file",
                "is required when a store has farms (it signs the session ids clients get)",
                "create one with `head -c 32 /dev/urandom | base64 > /etc/sessiongate/session-id.key` and name it here; give every gateway instance the same file",
            );
        }
        return None;
    };
    // The same file rules as an HS256 secret: trailing whitespace dropped, 32 bytes at least.
    let key = read_secret(Path::new(path))
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

fn policy(config: ActiveSessionsConfig) -> ActiveSessionPolicy {
    match config {
        ActiveSessionsConfig::Allow => ActiveSessionPolicy::Allow,
        ActiveSessionsConfig::Strip => ActiveSessionPolicy::Strip,
        ActiveSessionsConfig::Reject => ActiveSessionPolicy::Reject,
    }
}

/// Resolve `host:port` entries; the names the servers go by are added to `authorities`.
fn resolve_all(
    key: &str,
    entries: &[String],
    what: &str,
    authorities: &mut Vec<String>,
    issues: &mut Issues,
) -> Vec<SocketAddr> {
    let mut addrs = Vec::new();
    if entries.is_empty() {
        issues.push(key, "is empty", format!("list the {what} as host:port"));
    }
    for (j, u) in entries.iter().enumerate() {
        match u.to_socket_addrs().map(|mut a| a.next()) {
            Ok(Some(addr)) => {
                addrs.push(addr);
                authorities.push(u.clone());
                authorities.push(addr.to_string());
            }
            _ => issues.push(
                format!("{key}[{j}]"),
                format!("`{u}` does not resolve to an address"),
                "write host:port with a port, e.g. 10.0.0.11:80",
            ),
        }
    }
    addrs
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

/// The token verifier of a farm-backed store; key files are read here so `-t` finds a missing
/// or unusable one.
fn identity(
    key: &str,
    config: Option<&IdentityFileConfig>,
    issues: &mut Issues,
) -> Option<Arc<Verifier>> {
    let Some(c) = config else {
        issues.push(
            key,
            "is required with farms: (the farms trust the gateway, so the gateway must verify every token itself)",
            "add identity: with jwt: (algorithm, key_file) or introspection: (url)",
        );
        return None;
    };
    let source = match (&c.jwt, &c.introspection) {
        (Some(j), None) => IdentitySource::Jwt(JwtConfig {
            algorithm: match j.algorithm {
                JwtAlgorithmConfig::HS256 => JwtAlgorithm::Hs256,
                JwtAlgorithmConfig::RS256 => JwtAlgorithm::Rs256,
                JwtAlgorithmConfig::ES256 => JwtAlgorithm::Es256,
            },
            key_file: j.key_file.clone().into(),
            audience: j.audience.clone(),
            issuer: j.issuer.clone(),
            leeway: Duration::from_secs(j.leeway_seconds),
        }),
        (None, Some(i)) => {
            if AbsoluteUrl::parse(&i.url).is_none() || !header_safe(&i.url) {
                issues.push(
                    format!("{key}.introspection.url"),
                    format!("`{}` is not an absolute http(s) URL", i.url),
                    "give the RFC 7662 endpoint, e.g. https://idp.example.com/oauth2/introspect",
                );
            }
            if i.cache_entries == 0 || i.cache_entries > 1_000_000 {
                issues.push(
                    format!("{key}.introspection.cache_entries"),
                    format!("{} is out of range", i.cache_entries),
                    "use 1 to 1000000",
                );
            }
            if i.client_id.is_some() != i.client_secret_file.is_some() {
                issues.push(
                    format!("{key}.introspection"),
                    "client_id and client_secret_file go together",
                    "set both (HTTP Basic authentication to the endpoint) or neither",
                );
            }
            IdentitySource::Introspection(IntrospectionConfig {
                url: i.url.clone(),
                client_id: i.client_id.clone(),
                client_secret_file: i.client_secret_file.clone().map(Into::into),
                timeout: timeout(
                    format!("{key}.introspection.timeout_ms"),
                    i.timeout_ms,
                    issues,
                ),
                cache_ttl: Duration::from_secs(i.cache_ttl_seconds),
                cache_entries: i.cache_entries,
                audience: i.audience.clone(),
            })
        }
        _ => {
            issues.push(
                key,
                "must have exactly one of jwt: and introspection:",
                "verify tokens locally (jwt:) or ask the identity provider (introspection:)",
            );
            return None;
        }
    };
    if c.user_claim.is_empty() {
        issues.push(
            format!("{key}.user_claim"),
            "is empty",
            "name the claim holding the user, e.g. sub or upn",
        );
    }
    if let Some(d) = &c.domain {
        let ok = !d.is_empty()
            && d.len() <= 15
            && d.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch));
        if !ok {
            issues.push(
                format!("{key}.domain"),
                format!("`{d}` is not a NetBIOS domain name"),
                "write the short domain name, e.g. CORP",
            );
        }
    }
    let config = IdentityConfig {
        source,
        user_claim: c.user_claim.clone(),
        sids_claim: c.sids_claim.clone(),
        domain: c.domain.clone(),
    };
    match Verifier::new(&config) {
        Ok(v) => Some(Arc::new(v)),
        Err(e) => {
            issues.push(key, e.to_string(), "check the key or secret file");
            None
        }
    }
}

fn farms(
    key: &str,
    configs: &[FarmConfig],
    store_policy: Option<ActiveSessionsConfig>,
    session_ids: Option<&SessionIdKey>,
    identity: Option<Arc<Verifier>>,
    issues: &mut Issues,
) -> Option<Farms> {
    if configs.is_empty() {
        issues.push(
            key,
            "is empty",
            "list at least one farm with name and brokers",
        );
    }
    let mut farms = Vec::new();
    let mut seen = HashSet::new();
    for (i, f) in configs.iter().enumerate() {
        let key = format!("{key}[{i}]");
        let name_ok = !f.name.is_empty()
            && f.name.len() <= MAX_FIELD_LEN.min(64)
            && f.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " -_.".contains(c));
        if !name_ok {
            issues.push(
                format!("{key}.name"),
                format!("`{}` is not a usable farm name", f.name),
                "use 1-64 characters of letters, digits, space, - _ and .",
            );
        }
        if !seen.insert(f.name.to_ascii_lowercase()) {
            issues.push(
                format!("{key}.name"),
                format!("`{}` is used by another farm of this store", f.name),
                "give each farm its own name",
            );
        }
        let brokers = resolve_all(
            &format!("{key}.brokers"),
            &f.brokers,
            "farm's XML brokers",
            &mut Vec::new(),
            issues,
        );
        check_host(&key, f.host.as_ref(), f.tls, issues);
        let connect_timeout = timeout(
            format!("{key}.connect_timeout_ms"),
            f.connect_timeout_ms,
            issues,
        );
        let farm_timeout = timeout(format!("{key}.timeout_ms"), f.timeout_ms, issues);
        if !(1024..=16 * 1024 * 1024).contains(&f.max_response_bytes) {
            issues.push(
                format!("{key}.max_response_bytes"),
                format!("{} is out of range", f.max_response_bytes),
                "use 1024 to 16777216",
            );
        }
        if !(10..=3600).contains(&f.ticket_ttl_seconds) {
            issues.push(
                format!("{key}.ticket_ttl_seconds"),
                format!("{} is out of range", f.ticket_ttl_seconds),
                "use 10 to 3600 seconds (Web Interface uses 200)",
            );
        }
        // The safe default: a pre-XD7 farm never lists active sessions unless told to.
        let active_sessions = match (f.active_sessions, store_policy) {
            (Some(p), _) | (None, Some(p)) => policy(p),
            (None, None) if f.pre_xd7 => ActiveSessionPolicy::Strip,
            (None, None) => ActiveSessionPolicy::Allow,
        };
        farms.push(Arc::new(Farm {
            name: f.name.clone(),
            brokers,
            tls: f.tls,
            host: f.host.clone(),
            connect_timeout,
            timeout: farm_timeout,
            max_response_bytes: f.max_response_bytes,
            health_check_interval: (f.health_check_interval_ms > 0)
                .then(|| Duration::from_millis(f.health_check_interval_ms)),
            pre_xd7: f.pre_xd7,
            hosts: match f.hosts {
                FarmHostsConfig::Apps => FarmHosts::Apps,
                FarmHostsConfig::Desktops => FarmHosts::Desktops,
                FarmHostsConfig::Both => FarmHosts::Both,
            },
            legacy_workspace_control: f.legacy_workspace_control,
            active_sessions,
            ticket_ttl_seconds: f.ticket_ttl_seconds,
        }));
    }
    Some(Farms {
        farms,
        session_ids: session_ids?.clone(),
        identity: identity?,
    })
}

fn store(
    key: &str,
    s: &StoreConfig,
    session_ids: Option<&SessionIdKey>,
    issues: &mut Issues,
) -> Option<Store> {
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

    let realm = s.auth.realm.clone().unwrap_or_else(|| name.clone());
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

    let active_sessions = s.active_sessions.map_or(ActiveSessionPolicy::Allow, policy);

    let backend = match (&s.storefront, &s.farms) {
        (Some(sf), None) => {
            if s.identity.is_some() {
                issues.push(
                    format!("{key}.identity"),
                    "only applies to stores with farms: (StoreFront verifies its own tokens)",
                    "remove identity: from this store",
                );
            }
            storefront(&format!("{key}.storefront"), sf, &public_url, issues)
                .map(Backend::StoreFront)
        }
        (None, Some(f)) => {
            let verifier = identity(&format!("{key}.identity"), s.identity.as_ref(), issues);
            farms(
                &format!("{key}.farms"),
                f,
                s.active_sessions,
                session_ids,
                verifier,
                issues,
            )
            .map(Backend::Farms)
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
    };

    Some(Store {
        name,
        path: path?,
        public_url,
        active_sessions,
        max_body_bytes: s.max_body_bytes,
        challenge: ChallengeTemplate {
            realm,
            locations,
            serviceroot_hint,
        },
        backend: backend?,
    })
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
    let mut authorities = Vec::new();
    let upstreams = resolve_all(
        &format!("{key}.upstreams"),
        &sf.upstreams,
        "StoreFront servers",
        &mut authorities,
        issues,
    );
    check_host(key, sf.host.as_ref(), sf.tls, issues);
    authorities.extend(sf.host.iter().cloned());
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
    let url_map = UrlMap::new(&authorities, &upstream_path, public_url).ok()?;
    authorities.retain(|a| !a.is_empty());
    authorities.sort();
    authorities.dedup();
    Some(StoreFront {
        upstreams,
        upstream_path,
        tls: sf.tls,
        host: sf.host.clone(),
        connect_timeout,
        read_timeout,
        max_response_bytes: sf.max_response_bytes,
        health_check_interval: (sf.health_check_interval_ms > 0)
            .then(|| Duration::from_millis(sf.health_check_interval_ms)),
        url_map,
        names: authorities,
    })
}
