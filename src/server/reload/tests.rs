use super::*;

const BASE: &str = r#"
stores:
  - path: /Citrix/Store
    public_url: https://workspace.example.com/Citrix/Store
    storefront:
      upstreams: ["10.0.0.11:80"]
      upstream_path: /Citrix/Store
"#;

fn config(top: &str) -> Config {
    config::from_yaml(&format!("{top}{BASE}"), "t").unwrap()
}

#[test]
fn keys_a_running_process_cannot_change_are_named_once() {
    let running = config("");
    assert!(restart_needed(&running, &config("")).is_empty());
    assert!(restart_needed(&running, &config("trusted_proxies: [\"10.0.0.0/8\"]\n")).is_empty());
    let changed = config(
        "listen: [\"127.0.0.1:8443\", \"127.0.0.1:8444\"]\nthreads: 4\nclients:\n  max_connections: 5\nreload:\n  watch: true\n",
    );
    assert_eq!(
        restart_needed(&running, &changed),
        ["listen", "threads", "clients", "reload"]
    );
}

#[test]
fn what_runs_keeps_the_values_that_wait_for_a_restart() {
    let running = config("");
    let next = config("threads: 4\ntrusted_proxies: [\"10.0.0.0/8\"]\n");
    let kept = keep_fixed(&running, next);
    assert_eq!(kept.threads, running.threads);
    assert_eq!(kept.trusted_proxies.len(), 1);
    // So a second reload of the same file still reports them.
    assert_eq!(restart_needed(&kept, &config("threads: 4\n")), ["threads"]);
}

#[test]
fn xml_relays_wait_for_a_restart() {
    let relay = |farm: &str| {
        format!("xml_relays:\n  - listen: \"127.0.0.1:8085\"\n    farm:\n      name: {farm}\n      brokers: [\"10.0.1.10:8080\"]\n")
    };
    let running = config(&relay("XA65"));
    assert!(restart_needed(&running, &config(&relay("XA65"))).is_empty());
    let next = config(&relay("XA76"));
    assert_eq!(restart_needed(&running, &next), ["xml_relays"]);
    let kept = keep_fixed(&running, next);
    assert_eq!(kept.xml_relays[0].farm.name, "XA65");
}

#[test]
fn the_hash_is_the_files_sha256() {
    let h = ConfigHash::of(b"abc");
    // SHA-256("abc") = ba7816bf 8f01cfea ...
    assert_eq!(h.short(), "ba7816bf8f01cfea");
    assert_eq!(h.metric_value(), 0xba78_16bf_8f01_u64 as f64);
    // 48 bits stay exact in a float64 sample.
    assert!(h.metric_value() < 2f64.powi(53));
}

#[test]
fn new_certificate_files_for_the_same_listener_need_no_restart() {
    let tls = |cert: &str| {
        config(&format!(
            "listen:\n  - address: \"127.0.0.1:8443\"\n    certificate_file: {cert}\n    key_file: /k.pem\n"
        ))
    };
    assert!(restart_needed(&tls("/a.pem"), &tls("/b.pem")).is_empty());
    assert_eq!(restart_needed(&tls("/a.pem"), &config("")), ["listen"]);
}
