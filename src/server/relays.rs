//! Wiring of the XML relays: each relay's farm made live (brokers resolved, pool with NFuse
//! health checks, CA read), its certificate loaded if it serves HTTPS, and its listening service
//! (the relay app behind the same client limits as the proxy).
//!
//! Relays are fixed for the life of the process: a reload keeps them as they started (their
//! listeners could not move anyway) and reports `xml_relays` as needing a restart.

use std::sync::Arc;

use pingora::listeners::ListenerConfig;
use pingora::services::listening::Service;

use super::certificate::ListenerCertificate;
use super::upstreams::member;
use crate::backend::farm::FarmMember;
use crate::backend::pool::Checked;
use crate::config::{Clients, ConfigIssue, Issues, XmlRelay};
use crate::proxy::connection::{ClientLimits, Limited};
use crate::relay::{RelayApp, RelayHealth};

/// A relay ready to serve.
pub struct PreparedRelay {
    pub config: XmlRelay,
    pub member: FarmMember,
    pub certificate: Option<ListenerCertificate>,
}

impl PreparedRelay {
    /// What `/readyz` watches.
    pub fn health(&self) -> RelayHealth {
        RelayHealth {
            farm: self.config.farm.name.clone(),
            pool: self.member.pool.clone(),
        }
    }
}

/// The relays ready to serve, and the balancers of their brokers to health-check.
#[derive(Default)]
pub struct PreparedRelays {
    pub relays: Vec<PreparedRelay>,
    pub health: Vec<Checked>,
}

/// Every relay of the configuration.
pub fn prepare_relays(relays: &[XmlRelay], issues: &mut Issues) -> PreparedRelays {
    let mut health = Vec::new();
    let mut prepared = Vec::new();
    for (i, relay) in relays.iter().enumerate() {
        let key = format!("xml_relays[{i}]");
        let name = format!("xml relay {}", relay.farm.name);
        let member = member(
            &format!("{key}.farm"),
            &name,
            &relay.farm,
            &mut health,
            issues,
        );
        let certificate = match &relay.tls {
            None => None,
            Some(tls) => match ListenerCertificate::load(tls) {
                Ok(c) => Some(c),
                Err(issue) => {
                    issues.0.push(renamed(issue, i));
                    None
                }
            },
        };
        if let (Some(member), true) = (member, relay.tls.is_none() || certificate.is_some()) {
            prepared.push(PreparedRelay {
                config: relay.clone(),
                member,
                certificate,
            });
        }
    }
    PreparedRelays {
        relays: prepared,
        health,
    }
}

/// A certificate problem names `listen[N]`; for a relay it is `xml_relays[N].listen`.
fn renamed(mut issue: ConfigIssue, index: usize) -> ConfigIssue {
    let from = format!("listen[{index}]");
    if let Some(rest) = issue.key.strip_prefix(&from) {
        issue.key = format!("xml_relays[{index}].listen{rest}");
    }
    issue
}

/// The listening service of `relay`.
pub fn relay_service(
    relay: PreparedRelay,
    clients: &Clients,
) -> Result<Service<Limited<RelayApp>>, ConfigIssue> {
    let PreparedRelay {
        config,
        member,
        certificate,
    } = relay;
    let limits = ClientLimits {
        header: clients.header_timeout,
        idle: clients.idle_timeout,
        max_connections: clients.max_connections,
    };
    let app = RelayApp::new(&config, member, clients.body_timeout);
    let name = format!("xml relay {}", config.farm.name);
    let mut service = Service::new(name, Limited::new(app, limits));
    let mut listener = ListenerConfig::tcp(config.listen.to_string());
    if let Some(certificate) = certificate {
        // A reload does not renew a relay's certificate: the handle to do so is not kept.
        let (settings, _served) = certificate.settings().map_err(|e| ConfigIssue {
            key: "xml_relays.listen".into(),
            problem: format!("cannot set up TLS: {e}"),
            fix: "report this: the certificate loaded".into(),
        })?;
        listener = listener.tls(settings);
    }
    service.add_listener(listener);
    Ok(service)
}

/// The relays' health, shared with the admin listener.
pub fn relay_health(relays: &[PreparedRelay]) -> Arc<Vec<RelayHealth>> {
    Arc::new(relays.iter().map(PreparedRelay::health).collect())
}
