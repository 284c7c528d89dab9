//! The rules of a farm-backed store: its farms and how it verifies tokens. Key files are only
//! named here; wiring reads them (and `-t` with it).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::{addresses, check_ca_file, check_host, header_safe, policy, timeout, Issues};
use crate::config::file::{
    ActiveSessionsConfig, FarmConfig, FarmHostsConfig, IdentityFileConfig, IntrospectionFileConfig,
    JwtAlgorithmConfig, JwtFileConfig, MAX_JWT_LEEWAY_SECONDS,
};
use crate::config::runtime::{
    ActiveSessionPolicy, Farm, FarmHosts, Farms, IdentityConfig, IdentitySource,
    IntrospectionConfig, JwtAlgorithm, JwtConfig,
};
use crate::protocol::session_id::MAX_FIELD_LEN;
use crate::protocol::url::AbsoluteUrl;

/// The `farms:` list of store `key` (`stores[N]`) and its `identity:`.
pub(super) fn farms(
    key: &str,
    configs: &[FarmConfig],
    store_policy: Option<ActiveSessionsConfig>,
    identity_config: Option<&IdentityFileConfig>,
    issues: &mut Issues,
) -> Option<Farms> {
    let identity = identity(&format!("{key}.identity"), identity_config, issues);
    let key = format!("{key}.farms");
    if configs.is_empty() {
        issues.push(
            &key,
            "is empty",
            "list at least one farm with name and brokers",
        );
    }
    let mut list = Vec::new();
    let mut seen = HashSet::new();
    for (i, f) in configs.iter().enumerate() {
        let key = format!("{key}[{i}]");
        if !seen.insert(f.name.to_ascii_lowercase()) {
            issues.push(
                format!("{key}.name"),
                format!("`{}` is used by another farm of this store", f.name),
                "give each farm its own name",
            );
        }
        list.push(Arc::new(farm(&key, f, store_policy, issues)));
    }
    Some(Farms {
        list,
        identity: identity?,
    })
}

/// One farm, `key` being `stores[N].farms[M]` (or `xml_relays[N].farm`).
pub(super) fn farm(
    key: &str,
    f: &FarmConfig,
    store_policy: Option<ActiveSessionsConfig>,
    issues: &mut Issues,
) -> Farm {
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
    let brokers = addresses(
        &format!("{key}.brokers"),
        &f.brokers,
        "farm's XML brokers",
        issues,
    );
    check_host(key, f.host.as_ref(), f.tls, issues);
    check_ca_file(key, f.ca_file.as_ref(), f.tls, "with tls: true", issues);
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
    Farm {
        name: f.name.clone(),
        brokers,
        tls: f.tls,
        ca_file: f.ca_file.clone().map(Into::into),
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
    }
}

/// How a farm-backed store verifies tokens, `key` being `stores[N].identity`.
fn identity(
    key: &str,
    config: Option<&IdentityFileConfig>,
    issues: &mut Issues,
) -> Option<IdentityConfig> {
    let Some(c) = config else {
        issues.push(
            key,
            "is required with farms: (the farms trust the gateway, so the gateway must verify every token itself)",
            "add identity: with jwt: (algorithm, key_file) or introspection: (url)",
        );
        return None;
    };
    let source = match (&c.jwt, &c.introspection) {
        (Some(j), None) => IdentitySource::Jwt(jwt(&format!("{key}.jwt"), j, issues)),
        (None, Some(i)) => {
            IdentitySource::Introspection(introspection(&format!("{key}.introspection"), i, issues))
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
    Some(IdentityConfig {
        source,
        user_claim: c.user_claim.clone(),
        sids_claim: c.sids_claim.clone(),
        domain: c.domain.clone(),
    })
}

fn jwt(key: &str, j: &JwtFileConfig, issues: &mut Issues) -> JwtConfig {
    if j.leeway_seconds > MAX_JWT_LEEWAY_SECONDS {
        issues.push(
            format!("{key}.leeway_seconds"),
            format!("{} is out of range", j.leeway_seconds),
            format!("use 0 to {MAX_JWT_LEEWAY_SECONDS} seconds (a day of clock skew is a mistake)"),
        );
    }
    JwtConfig {
        algorithm: match j.algorithm {
            JwtAlgorithmConfig::HS256 => JwtAlgorithm::Hs256,
            JwtAlgorithmConfig::RS256 => JwtAlgorithm::Rs256,
            JwtAlgorithmConfig::ES256 => JwtAlgorithm::Es256,
        },
        key_file: j.key_file.clone().into(),
        audience: j.audience.clone(),
        issuer: j.issuer.clone(),
        leeway: Duration::from_secs(j.leeway_seconds),
    }
}

fn introspection(
    key: &str,
    i: &IntrospectionFileConfig,
    issues: &mut Issues,
) -> IntrospectionConfig {
    if AbsoluteUrl::parse(&i.url).is_none() || !header_safe(&i.url) {
        issues.push(
            format!("{key}.url"),
            format!("`{}` is not an absolute http(s) URL", i.url),
            "give the RFC 7662 endpoint, e.g. https://idp.example.com/oauth2/introspect",
        );
    }
    if i.cache_entries == 0 || i.cache_entries > 1_000_000 {
        issues.push(
            format!("{key}.cache_entries"),
            format!("{} is out of range", i.cache_entries),
            "use 1 to 1000000",
        );
    }
    if i.client_id.is_some() != i.client_secret_file.is_some() {
        issues.push(
            key,
            "client_id and client_secret_file go together",
            "set both (HTTP Basic authentication to the endpoint) or neither",
        );
    }
    let https = i
        .url
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
    check_ca_file(
        key,
        i.ca_file.as_ref(),
        https,
        "with an https:// url",
        issues,
    );
    IntrospectionConfig {
        url: i.url.clone(),
        client_id: i.client_id.clone(),
        client_secret_file: i.client_secret_file.clone().map(Into::into),
        ca_file: i.ca_file.clone().map(Into::into),
        timeout: timeout(format!("{key}.timeout_ms"), i.timeout_ms, issues),
        cache_ttl: Duration::from_secs(i.cache_ttl_seconds),
        cache_entries: i.cache_entries,
        audience: i.audience.clone(),
    }
}
