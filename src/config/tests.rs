use super::*;
use crate::config::{FarmHosts, Farms};

const MINIMAL: &str = r#"
stores:
  - path: /Citrix/Store
    public_url: https://workspace.example.com/Citrix/Store
    storefront:
      upstreams: ["10.0.0.11:80"]
      upstream_path: /Citrix/Store
"#;

fn issues(text: &str) -> Vec<ConfigIssue> {
    match from_yaml(text, "test.yaml") {
        Err(ConfigError::Invalid { issues, .. }) => issues,
        other => panic!("expected invalid, got {other:?}"),
    }
}

fn syntax(text: &str) -> String {
    match from_yaml(text, "test.yaml") {
        Err(e @ ConfigError::Syntax { .. }) => e.to_string(),
        other => panic!("expected syntax error, got {other:?}"),
    }
}

#[test]
fn minimal_file_gets_defaults() {
    let c = from_yaml(MINIMAL, "t").unwrap();
    assert_eq!(c.listen, vec!["127.0.0.1:8080".parse().unwrap()]);
    assert_eq!(c.admin_listen, "127.0.0.1:9100".parse().unwrap());
    let s = &c.stores[0];
    assert_eq!(s.name, "store");
    assert_eq!(s.path, "/Citrix/Store");
    assert_eq!(s.max_body_bytes, 16 * 1024);
    assert_eq!(s.active_sessions, ActiveSessionPolicy::Allow);
    assert_eq!(
        s.challenge.locations,
        vec!["https://workspace.example.com/Citrix/StoreAuth/auth/v1/token".to_string()]
    );
    assert_eq!(
        s.challenge.serviceroot_hint,
        "https://workspace.example.com/Citrix/Store/resources/v2"
    );
    let Backend::StoreFront(sf) = &s.backend else {
        panic!("a StoreFront store")
    };
    assert_eq!(sf.upstream_path, "/Citrix/Store");
    assert_eq!(sf.upstreams, vec!["10.0.0.11:80".to_string()]);
    assert_eq!(
        c.upgrade_socket,
        std::path::PathBuf::from("/tmp/sessiongate-upgrade.sock")
    );
}

#[test]
fn unknown_keys_are_rejected_with_their_name() {
    let e = syntax(&MINIMAL.replace("public_url", "public_ulr"));
    assert!(e.contains("public_ulr"), "{e}");
    let e = syntax(&format!("{MINIMAL}\nlisten_on: []\n"));
    assert!(e.contains("listen_on"), "{e}");
    let e = syntax(&MINIMAL.replace("upstream_path:", "upstream_paht:"));
    assert!(e.contains("upstream_paht"), "{e}");
}

#[test]
fn wrong_types_and_enum_values() {
    let e = syntax(&format!("{MINIMAL}    active_sessions: sometimes\n"));
    assert!(
        e.contains("sometimes") || e.contains("active_sessions"),
        "{e}"
    );
    syntax("threads: many\n");
}

#[test]
fn policies_parse() {
    for (word, policy) in [
        ("allow", ActiveSessionPolicy::Allow),
        ("strip", ActiveSessionPolicy::Strip),
        ("reject", ActiveSessionPolicy::Reject),
    ] {
        let c = from_yaml(&format!("{MINIMAL}    active_sessions: {word}\n"), "t").unwrap();
        assert_eq!(c.stores[0].active_sessions, policy);
    }
}

#[test]
fn every_problem_is_reported_with_key_and_fix() {
    let text = r#"
listen: ["nonsense"]
admin_listen: "127.0.0.1:9100"
threads: 0
stores:
  - path: Citrix/Store
    public_url: workspace.example.com
    max_body_bytes: 1000000
    storefront:
      upstreams: []
      upstream_path: /Citrix/Store
      connect_timeout_ms: 0
"#;
    let found = issues(text);
    let keys: Vec<&str> = found.iter().map(|i| i.key.as_str()).collect();
    for k in [
        "listen[0]",
        "threads",
        "stores[0].path",
        "stores[0].public_url",
        "stores[0].max_body_bytes",
        "stores[0].storefront.upstreams",
        "stores[0].storefront.connect_timeout_ms",
    ] {
        assert!(keys.contains(&k), "missing {k} in {keys:?}");
    }
    assert!(found.iter().all(|i| !i.fix.is_empty()));
    let rendered = from_yaml(text, "bad.yaml").unwrap_err().to_string();
    assert!(rendered.starts_with("bad.yaml: "), "{rendered}");
    assert!(rendered.contains("fix: "), "{rendered}");
}

#[test]
fn store_without_backend_and_no_stores() {
    let found = issues("stores:\n  - path: /S\n    public_url: http://x/S\n");
    assert_eq!(found[0].key, "stores[0]");
    let found = issues("listen: [\"127.0.0.1:1\"]\n");
    assert_eq!(found[0].key, "stores");
}

#[test]
fn duplicate_and_nested_stores() {
    let two = format!(
        "{MINIMAL}{}",
        MINIMAL
            .replace("stores:\n", "")
            .replace("/Citrix/Store\n    public", "/citrix/store/\n    public")
    );
    let found = issues(&two);
    assert!(found.iter().any(|i| i.key == "stores[1].path"), "{found:?}");
    let nested = format!(
        "{MINIMAL}{}",
        MINIMAL
            .replace("stores:\n", "")
            .replace("path: /Citrix/Store\n", "path: /Citrix/Store/Inner\n")
    );
    let found = issues(&nested);
    assert!(
        found.iter().any(|i| i.problem.contains("inside")),
        "{found:?}"
    );
}

#[test]
fn admin_listener_must_differ() {
    let found = issues(&format!(
        "listen: [\"127.0.0.1:9100\"]\n{}",
        MINIMAL.trim_start()
    ));
    assert_eq!(found[0].key, "admin_listen");
}

#[test]
fn quotes_in_challenge_values_are_refused() {
    let text = format!("{MINIMAL}    auth:\n      realm: 'a\"b'\n");
    assert_eq!(issues(&text)[0].key, "stores[0].auth.realm");
}

#[test]
fn tls_needs_a_host_name_to_check() {
    let found = issues(&MINIMAL.replace("upstream_path:", "tls: true\n      upstream_path:"));
    assert_eq!(found[0].key, "stores[0].storefront.host");
    let ok = MINIMAL.replace(
        "upstream_path:",
        "tls: true\n      host: sf.corp.example.com\n      upstream_path:",
    );
    assert!(from_yaml(&ok, "t").is_ok());
}

/// A farm store with key files from the identity fixtures and a fresh session-id key.
fn farm_yaml(farms: &str, store_extra: &str) -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    format!(
        r#"
session_id_key_file: {dir}/tests/fixtures/identity/hs256.secret
stores:
  - path: /Citrix/Legacy
    public_url: https://workspace.example.com/Citrix/Legacy
{store_extra}    identity:
      jwt:
        algorithm: HS256
        key_file: {dir}/tests/fixtures/identity/hs256.secret
    farms:
{farms}"#
    )
}

fn farms_of(c: &Config) -> &Farms {
    match &c.stores[0].backend {
        Backend::Farms(f) => f,
        other => panic!("not a farm store: {other:?}"),
    }
}

#[test]
fn farm_defaults_protect_pre_xd7_farms() {
    let c = from_yaml(
        &farm_yaml(
            "      - name: XA65\n        brokers: [\"10.0.1.10:8080\"]\n      - name: XD7\n        brokers: [\"10.0.2.10:80\"]\n        pre_xd7: false\n",
            "",
        ),
        "t",
    )
    .unwrap();
    let f = farms_of(&c);
    assert_eq!(f.list.len(), 2);
    let (xa, xd) = (&f.list[0], &f.list[1]);
    assert!(
        xa.pre_xd7,
        "a farm is assumed pre-XD7 unless told otherwise"
    );
    assert_eq!(xa.active_sessions, ActiveSessionPolicy::Strip);
    assert_eq!(xd.active_sessions, ActiveSessionPolicy::Allow);
    assert_eq!(xa.hosts, FarmHosts::Both);
    assert_eq!(xa.timeout, std::time::Duration::from_millis(5000));
    assert_eq!(xa.ticket_ttl_seconds, 200);
    assert!(xa.health_check_interval.is_some());
}

#[test]
fn farm_policy_precedence_is_farm_then_store_then_default() {
    let c = from_yaml(
        &farm_yaml(
            "      - name: A\n        brokers: [\"10.0.1.10:8080\"]\n        active_sessions: allow\n      - name: B\n        brokers: [\"10.0.1.11:8080\"]\n",
            "    active_sessions: reject\n",
        ),
        "t",
    )
    .unwrap();
    let f = farms_of(&c);
    assert_eq!(f.list[0].active_sessions, ActiveSessionPolicy::Allow);
    assert_eq!(f.list[1].active_sessions, ActiveSessionPolicy::Reject);
}

#[test]
fn app_sessions_only_skips_only_pre_xd7_desktop_farms() {
    let c = from_yaml(
        &farm_yaml(
            "      - name: XD5\n        brokers: [\"10.0.1.10:8080\"]\n        hosts: desktops\n      - name: XD5L\n        brokers: [\"10.0.1.11:8080\"]\n        hosts: desktops\n        legacy_workspace_control: true\n      - name: XA6\n        brokers: [\"10.0.1.12:8080\"]\n        hosts: both\n      - name: XD7\n        brokers: [\"10.0.1.13:8080\"]\n        hosts: desktops\n        pre_xd7: false\n",
            "",
        ),
        "t",
    )
    .unwrap();
    let served: Vec<bool> = farms_of(&c)
        .list
        .iter()
        .map(|f| f.serves_app_sessions_only())
        .collect();
    assert_eq!(served, vec![false, true, true, true]);
}

#[test]
fn farm_store_problems_are_all_reported() {
    let text = farm_yaml(
        "      - name: \"bad/name\"\n        brokers: []\n        tls: true\n        timeout_ms: 0\n        ticket_ttl_seconds: 5\n      - name: A\n        brokers: [\"nowhere\"]\n      - name: a\n        brokers: [\"10.0.0.1:80\"]\n",
        "",
    );
    let keys: Vec<String> = issues(&text).into_iter().map(|i| i.key).collect();
    for want in [
        "stores[0].farms[0].name",
        "stores[0].farms[0].brokers",
        "stores[0].farms[0].host",
        "stores[0].farms[0].timeout_ms",
        "stores[0].farms[0].ticket_ttl_seconds",
        "stores[0].farms[1].brokers[0]",
        "stores[0].farms[2].name",
    ] {
        assert!(keys.iter().any(|k| k == want), "{want} not in {keys:?}");
    }
}

#[test]
fn a_store_has_one_backend() {
    let text = farm_yaml(
        "      - name: A\n        brokers: [\"10.0.1.10:8080\"]\n",
        "    storefront:\n      upstreams: [\"10.0.0.11:80\"]\n      upstream_path: /Citrix/Store\n",
    );
    let found = issues(&text);
    assert!(
        found
            .iter()
            .any(|i| i.key == "stores[0]" && i.problem.contains("both")),
        "{found:?}"
    );
}

#[test]
fn farms_need_identity_and_a_session_id_key() {
    let text = r#"
stores:
  - path: /Citrix/Legacy
    public_url: https://workspace.example.com/Citrix/Legacy
    farms:
      - name: A
        brokers: ["10.0.1.10:8080"]
"#;
    let keys: Vec<String> = issues(text).into_iter().map(|i| i.key).collect();
    assert!(
        keys.contains(&"session_id_key_file".to_string()),
        "{keys:?}"
    );
    assert!(keys.contains(&"stores[0].identity".to_string()), "{keys:?}");
}

#[test]
fn identity_needs_exactly_one_source() {
    let text = farm_yaml(
        "      - name: A\n        brokers: [\"10.0.1.10:8080\"]\n",
        "",
    )
    .replace(
        "    identity:\n",
        "    identity:\n      introspection:\n        url: https://idp.example.com/introspect\n",
    );
    let found = issues(&text);
    assert!(
        found
            .iter()
            .any(|i| i.key == "stores[0].identity" && i.problem.contains("exactly one")),
        "{found:?}"
    );
}

#[test]
fn listen_takes_plain_and_https_entries() {
    let text = format!(
        "listen:\n  - \"127.0.0.1:8080\"\n  - address: \"127.0.0.1:8443\"\n    certificate_file: /c.pem\n    key_file: /k.pem\n{MINIMAL}"
    );
    let c = from_yaml(&text, "t").unwrap();
    assert_eq!(c.listen.len(), 2);
    let https = TlsListener {
        index: 1,
        addr: "127.0.0.1:8443".parse().unwrap(),
        certificate_file: "/c.pem".into(),
        key_file: "/k.pem".into(),
        http2: true,
    };
    assert_eq!(c.tls_listeners, vec![https]);
    let bad = text.replace("127.0.0.1:8443", "nowhere");
    assert_eq!(issues(&bad)[0].key, "listen[1].address");
    let empty = text.replace("/k.pem", "\"\"");
    assert_eq!(issues(&empty)[0].key, "listen[1].key_file");
    let twice = text.replace("8443", "8080");
    assert_eq!(issues(&twice)[0].key, "listen[1].address");
    // A misspelt key of the map is named, not "did not match any variant".
    let s = syntax(&text.replace("key_file", "key"));
    assert!(s.contains("unknown field `key`"), "{s}");
}

#[test]
fn ca_file_applies_only_over_tls() {
    let found =
        issues(&MINIMAL.replace("upstream_path:", "ca_file: /ca.pem\n      upstream_path:"));
    assert_eq!(found[0].key, "stores[0].storefront.ca_file");
    let ok = MINIMAL.replace(
        "upstream_path:",
        "tls: true\n      host: sf.corp.example.com\n      ca_file: /ca.pem\n      upstream_path:",
    );
    let c = from_yaml(&ok, "t").unwrap();
    let Backend::StoreFront(sf) = &c.stores[0].backend else {
        panic!("a StoreFront store")
    };
    assert_eq!(sf.ca_file, Some("/ca.pem".into()));
}

#[test]
fn the_file_watch_is_off_by_default_and_its_interval_is_bounded() {
    assert_eq!(from_yaml(MINIMAL, "t").unwrap().watch_interval, None);
    let watched = format!("reload:\n  watch: true\n{MINIMAL}");
    assert_eq!(
        from_yaml(&watched, "t").unwrap().watch_interval,
        Some(std::time::Duration::from_millis(2000))
    );
    let busy = format!("reload:\n  watch: true\n  watch_interval_ms: 10\n{MINIMAL}");
    assert_eq!(issues(&busy)[0].key, "reload.watch_interval_ms");
    assert!(syntax(&format!("reload:\n  wacth: true\n{MINIMAL}")).contains("wacth"));
}
