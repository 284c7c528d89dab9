//! The allow-list and the safeguard, rule by rule.

use std::time::Duration;

use super::*;
use crate::config::FarmHosts;

fn farm(pre_xd7: bool, active_sessions: ActiveSessionPolicy) -> Farm {
    Farm {
        name: "XA65".into(),
        brokers: vec!["10.0.0.1:80".into()],
        tls: false,
        ca_file: None,
        host: None,
        connect_timeout: Duration::from_secs(1),
        timeout: Duration::from_secs(1),
        max_response_bytes: 65536,
        health_check_interval: None,
        pre_xd7,
        hosts: FarmHosts::Both,
        legacy_workspace_control: false,
        active_sessions,
        ticket_ttl_seconds: 200,
    }
}

fn inbound(request: RequestType, credentials: CredentialForm) -> Inbound {
    Inbound {
        request,
        credentials,
        access_list: false,
        active_sessions: false,
    }
}

fn password() -> CredentialForm {
    CredentialForm::Password {
        user: "corp\\alice".into(),
    }
}

#[test]
fn untrusted_sources_may_only_log_on() {
    let f = farm(true, ActiveSessionPolicy::Strip);
    let refused = |r: &Inbound| matches!(decide(r, false, &f), Decision::Refuse(_));
    for t in [
        RequestType::ServerData,
        RequestType::ServerFarmData,
        RequestType::Capabilities,
        RequestType::ProtocolInfo,
    ] {
        assert!(refused(&inbound(t, CredentialForm::Missing)), "{t:?}");
        assert!(refused(&inbound(t, password())), "{t:?}");
    }
    assert!(refused(&inbound(
        RequestType::AppData,
        CredentialForm::Missing
    )));
    assert!(refused(&inbound(
        RequestType::AppData,
        CredentialForm::Anonymous
    )));
    let mut acl = inbound(RequestType::AppData, password());
    acl.access_list = true;
    assert!(refused(&acl));
    assert!(refused(&inbound(
        RequestType::Address,
        CredentialForm::Identity
    )));
    assert!(refused(&inbound(
        RequestType::Ticket,
        CredentialForm::Missing
    )));
    assert!(refused(&inbound(RequestType::Other, password())));
    assert!(!refused(&inbound(RequestType::AppData, password())));
    assert!(!refused(&inbound(
        RequestType::ValidateCredentials,
        password()
    )));
}

#[test]
fn trusted_sources_pass_everything() {
    let f = farm(true, ActiveSessionPolicy::Strip);
    for t in RequestType::ALL {
        for c in [
            CredentialForm::Missing,
            CredentialForm::Identity,
            password(),
        ] {
            let d = decide(&inbound(t, c.clone()), true, &f);
            assert!(matches!(d, Decision::Relay(_)), "{t:?} {c:?}");
        }
    }
}

#[test]
fn failover_is_for_read_only_requests_only() {
    let f = farm(true, ActiveSessionPolicy::Strip);
    let read_only = |t| match decide(&inbound(t, CredentialForm::Identity), true, &f) {
        Decision::Relay(r) => r.read_only,
        _ => panic!("refused"),
    };
    assert!(read_only(RequestType::AppData));
    assert!(read_only(RequestType::ServerFarmData));
    assert!(read_only(RequestType::ReconnectSessionData));
    assert!(!read_only(RequestType::ValidateCredentials));
    assert!(!read_only(RequestType::DisconnectUserSessions));
    assert!(!read_only(RequestType::LogoffUserSessions));
    assert!(!read_only(RequestType::Ticket));
    assert!(!read_only(RequestType::Other));
}

#[test]
fn the_safeguard_follows_the_farms_policy() {
    let mut active = inbound(RequestType::ReconnectSessionData, CredentialForm::Identity);
    active.active_sessions = true;
    let strip = decide(&active, true, &farm(true, ActiveSessionPolicy::Strip));
    assert_eq!(
        strip,
        Decision::Relay(Relay {
            only_disconnected: true,
            read_only: true,
            safeguard: Some(SafeguardAction::Stripped)
        })
    );
    let reject = decide(&active, true, &farm(true, ActiveSessionPolicy::Reject));
    assert_eq!(reject, Decision::RefuseActive);
    match decide(&active, true, &farm(true, ActiveSessionPolicy::Allow)) {
        Decision::Relay(r) => assert!(!r.only_disconnected && !r.read_only),
        d => panic!("{d:?}"),
    }
    match decide(&active, true, &farm(false, ActiveSessionPolicy::Allow)) {
        Decision::Relay(r) => assert!(!r.only_disconnected && r.read_only),
        d => panic!("{d:?}"),
    }
}
