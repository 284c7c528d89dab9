//! `xml_relays:`: defaults, what is refused (with its key path), and a gateway that only relays.

use std::time::Duration;

use super::*;

const RELAY: &str = r#"
xml_relays:
  - listen: "127.0.0.1:8085"
    trusted_networks: ["10.0.0.11/32"]
    farm:
      name: XA65
      brokers: ["10.0.1.10:8080"]
"#;

fn issues(text: &str) -> Vec<ConfigIssue> {
    match from_yaml(text, "test.yaml") {
        Err(ConfigError::Invalid { issues, .. }) => issues,
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn a_relay_alone_is_a_valid_gateway_with_defaults() {
    let c = from_yaml(RELAY, "t").unwrap();
    assert!(c.stores.is_empty());
    let r = &c.xml_relays[0];
    assert_eq!(r.listen, "127.0.0.1:8085".parse().unwrap());
    assert!(r.tls.is_none());
    assert_eq!(r.max_request_bytes, 4096);
    assert_eq!(r.throttle.failures_per_user, 5);
    assert_eq!(r.throttle.failures_per_source, 10);
    assert_eq!(r.throttle.window, Duration::from_secs(900));
    assert_eq!(r.throttle.max_entries, 10_000);
    assert!(r.farm.pre_xd7);
    assert_eq!(r.farm.active_sessions, ActiveSessionPolicy::Strip);
    assert!(r.trusted_networks[0].contains("10.0.0.11".parse().unwrap()));
}

#[test]
fn unknown_keys_are_refused() {
    let text = RELAY.replace("trusted_networks", "trusted_network");
    let e = from_yaml(&text, "t").unwrap_err().to_string();
    assert!(e.contains("trusted_network"), "{e}");
    let text = RELAY.replace(
        "      name: XA65\n",
        "      name: XA65\n      brokerz: []\n",
    );
    assert!(from_yaml(&text, "t").is_err());
}

#[test]
fn bad_values_name_their_key_and_a_fix() {
    let text = format!(
        "listen: [\"127.0.0.1:8085\"]\n{}",
        RELAY
            .replace("10.0.0.11/32", "10.0.0.300/8")
            .replace("brokers: [\"10.0.1.10:8080\"]", "brokers: [\"nope\"]\n    max_request_bytes: 10\n    throttle: {failures_per_user: 0, window_ms: 5}")
    );
    let found = issues(&text);
    let keys: Vec<&str> = found.iter().map(|i| i.key.as_str()).collect();
    for key in [
        "xml_relays[0].listen",
        "xml_relays[0].trusted_networks[0]",
        "xml_relays[0].farm.brokers[0]",
        "xml_relays[0].max_request_bytes",
        "xml_relays[0].throttle.failures_per_user",
        "xml_relays[0].throttle.window_ms",
    ] {
        assert!(keys.contains(&key), "{key} not in {keys:?}");
    }
    assert!(found.iter().all(|i| !i.fix.is_empty()));
}

#[test]
fn two_relays_to_one_farm_are_refused() {
    let second = "  - listen: \"127.0.0.1:8086\"\n    farm:\n      name: xa65\n      brokers: [\"10.0.1.11:8080\"]\n";
    let found = issues(&format!("{RELAY}{second}"));
    assert_eq!(found[0].key, "xml_relays[1].farm.name", "{found:?}");
}
