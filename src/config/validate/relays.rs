//! The rules of `xml_relays:`: each relay's listener (its own address, plain or HTTPS), its farm
//! (the same rules as a store's farm), its trusted networks and its throttle.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::farms::farm;
use super::{networks, Issues};
use crate::config::file::{ListenEntry, ThrottleConfig, XmlRelayConfig};
use crate::config::runtime::{Throttle, TlsListener, XmlRelay};

/// Smallest request limit: a real `RequestValidateCredentials` needs a few hundred bytes.
const MIN_REQUEST_BYTES: usize = 512;
/// Largest request limit: what IIS-hosted XML services accept (500 KB, citrix-protocols.md §1.1).
const MAX_REQUEST_BYTES: usize = 512 * 1024;
/// Most users and sources a throttle may be told to remember.
const MAX_THROTTLE_ENTRIES: usize = 1_000_000;
/// Longest throttle window (a day).
const MAX_WINDOW_MS: u64 = 86_400_000;

/// Every relay; `taken` are the client listeners, `admin` the admin listener.
pub(super) fn relays(
    configs: &[XmlRelayConfig],
    taken: &[SocketAddr],
    admin: Option<SocketAddr>,
    issues: &mut Issues,
) -> Vec<XmlRelay> {
    let mut used: Vec<SocketAddr> = taken.iter().copied().chain(admin).collect();
    let mut names = HashSet::new();
    let mut relays = Vec::new();
    for (i, c) in configs.iter().enumerate() {
        let key = format!("xml_relays[{i}]");
        let farm = farm(&format!("{key}.farm"), &c.farm, None, issues);
        if !names.insert(farm.name.to_ascii_lowercase()) {
            issues.push(
                format!("{key}.farm.name"),
                format!("`{}` is relayed to by another relay", farm.name),
                "relay to each farm once (one relay can serve every StoreFront server), or give the farms distinct names",
            );
        }
        let Some((listen, tls)) = listener(&key, i, &c.listen, &used, issues) else {
            continue;
        };
        used.push(listen);
        if !(MIN_REQUEST_BYTES..=MAX_REQUEST_BYTES).contains(&c.max_request_bytes) {
            issues.push(
                format!("{key}.max_request_bytes"),
                format!("{} is out of range", c.max_request_bytes),
                format!("use {MIN_REQUEST_BYTES} to {MAX_REQUEST_BYTES} (the XML service's default is 4096)"),
            );
        }
        relays.push(XmlRelay {
            listen,
            tls,
            farm: Arc::new(farm),
            trusted_networks: networks(
                &format!("{key}.trusted_networks"),
                &c.trusted_networks,
                issues,
            ),
            max_request_bytes: c.max_request_bytes,
            throttle: throttle(&format!("{key}.throttle"), &c.throttle, issues),
        });
    }
    relays
}

/// The relay's address (not used by any other listener) and its certificate files, if HTTPS.
fn listener(
    key: &str,
    index: usize,
    entry: &ListenEntry,
    used: &[SocketAddr],
    issues: &mut Issues,
) -> Option<(SocketAddr, Option<TlsListener>)> {
    let (addr_key, text) = match entry {
        ListenEntry::Plain(l) => (format!("{key}.listen"), l),
        ListenEntry::Tls(t) => (format!("{key}.listen.address"), &t.address),
    };
    let Ok(addr) = text.parse::<SocketAddr>() else {
        issues.push(
            addr_key,
            format!("`{text}` is not an ip:port address"),
            "write it as 10.0.0.20:80 or [::1]:8080",
        );
        return None;
    };
    if used.contains(&addr) {
        issues.push(
            addr_key,
            format!("`{addr}` is already used by another listener"),
            "give the relay a port of its own",
        );
    }
    let ListenEntry::Tls(t) = entry else {
        return Some((addr, None));
    };
    for (field, value) in [
        ("certificate_file", &t.certificate_file),
        ("key_file", &t.key_file),
    ] {
        if value.is_empty() {
            issues.push(
                format!("{key}.listen.{field}"),
                "is empty",
                "name a PEM file, e.g. /etc/sessiongate/tls/relay.pem",
            );
        }
    }
    let tls = TlsListener {
        index,
        addr,
        certificate_file: t.certificate_file.clone().into(),
        key_file: t.key_file.clone().into(),
        http2: false,
    };
    Some((addr, Some(tls)))
}

/// The throttle's bounds.
fn throttle(key: &str, c: &ThrottleConfig, issues: &mut Issues) -> Throttle {
    for (field, value) in [
        ("failures_per_user", c.failures_per_user),
        ("failures_per_source", c.failures_per_source),
    ] {
        if value == 0 {
            issues.push(
                format!("{key}.{field}"),
                "is 0, which would refuse every logon",
                "allow at least 1 failure (5 is usual; stay under the domain's lockout threshold)",
            );
        }
    }
    if !(1_000..=MAX_WINDOW_MS).contains(&c.window_ms) {
        issues.push(
            format!("{key}.window_ms"),
            format!("{} is out of range", c.window_ms),
            "use 1000 to 86400000 milliseconds (the domain's lockout observation window is a good choice)",
        );
    }
    if !(1..=MAX_THROTTLE_ENTRIES).contains(&c.max_entries) {
        issues.push(
            format!("{key}.max_entries"),
            format!("{} is out of range", c.max_entries),
            format!("use 1 to {MAX_THROTTLE_ENTRIES}"),
        );
    }
    Throttle {
        failures_per_user: c.failures_per_user,
        failures_per_source: c.failures_per_source,
        window: Duration::from_millis(c.window_ms),
        max_entries: c.max_entries,
    }
}
