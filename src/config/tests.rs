use super::*;

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
    let Backend::StoreFront(sf) = &s.backend;
    assert_eq!(sf.upstream_path, "/Citrix/Store");
    assert_eq!(sf.upstreams, vec!["10.0.0.11:80".parse().unwrap()]);
    assert_eq!(
        sf.names,
        vec!["10.0.0.11:80".to_string()],
        "configured and resolved, once"
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
