//! Live reload through the binary: SIGHUP, `POST /reload` and the file watch swap in a new
//! configuration under steady load without failing a request; an invalid file leaves the old
//! one serving and says why; what needs a restart is reported; canary state, the admin token and
//! health checks follow the reload.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::canary::{canary_store, Pools};
use common::load::{requests_counted, Connections, Load};
use common::process::GatewayProcess;
use common::tls::{Pki, TlsConn};
use common::*;

use std::net::SocketAddr;
use std::time::Duration;

const OLD_HOST: &str = "https://ws.example.com/";
const NEW_HOST: &str = "https://ws2.example.com/";
const RELOADED: &str = "sessiongate_config_reloads_total{outcome=\"success\"}";
const FAILED: &str = "sessiongate_config_reloads_total{outcome=\"failure\"}";
const LAST_OK: &str = "sessiongate_config_last_reload_successful";

fn available_request() -> Vec<u8> {
    sessions_post(
        "/Citrix/Store/sessions/v1/available",
        ALICE,
        SESSION_STATE,
        &params("RELOAD-CLIENT", ""),
    )
}

/// Whether the store's answers carry launch URLs on `host` now (waits up to 5 s for it).
fn serves_urls_on(addr: SocketAddr, host: &str) -> bool {
    let answer = poll_until(
        Duration::from_secs(5),
        || send(addr, &available_request()),
        |r| r.status == 200 && r.text().contains(host),
    );
    answer.status == 200 && answer.text().contains(host)
}

fn post_reload(admin: SocketAddr, headers: &[(&str, &str)]) -> Response {
    send(admin, &request("POST", "/reload", headers, ""))
}

#[test]
fn reloads_under_load_fail_no_request() {
    let (_sim, gw) = GatewayProcess::with_demo_store("");
    assert!(serves_urls_on(gw.addr, OLD_HOST));
    let fresh = Load::start(gw.addr, 3, Connections::Fresh, &available_request());
    let kept = Load::start(gw.addr, 1, Connections::KeptAlive, &available_request());
    let mut counted = poll_until(
        Duration::from_secs(10),
        || requests_counted(gw.admin),
        |n| *n >= 100.0,
    );
    for i in 0..6u32 {
        let (from, to) = if i % 2 == 0 {
            (OLD_HOST, NEW_HOST)
        } else {
            (NEW_HOST, OLD_HOST)
        };
        gw.rewrite(|yaml| yaml.replace(from, to));
        if i % 2 == 0 {
            gw.signal("HUP");
        } else {
            assert_eq!(post_reload(gw.admin, &[]).status, 200);
        }
        assert_eq!(
            metric_at(gw.admin, RELOADED, f64::from(i + 1)),
            f64::from(i + 1)
        );
        assert!(serves_urls_on(gw.addr, to), "reload {i} did not apply");
        // Load runs on the new configuration before the next reload.
        let before = counted;
        counted = poll_until(
            Duration::from_secs(20),
            || requests_counted(gw.admin),
            |n| *n >= before + 400.0,
        );
    }
    let (ok, failed) = fresh.finish();
    let (kept_ok, kept_failed) = kept.finish();
    println!("{ok} + {kept_ok} (one kept-alive connection) requests answered 200 across 6 reloads");
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert!(
        kept_failed.is_empty(),
        "the kept-alive connection failed: {kept_failed:?}"
    );
    assert!(
        ok + kept_ok >= 2000,
        "only {} requests in the run",
        ok + kept_ok
    );
    assert!(kept_ok >= 100, "the kept-alive client sent only {kept_ok}");
    assert!(!gw.log_text().contains("panicked"), "{}", gw.log_text());
}

#[test]
fn an_invalid_file_leaves_the_running_configuration_serving() {
    let (_sim, mut gw) = GatewayProcess::with_demo_store("");
    let good = std::fs::read_to_string(&gw.config).unwrap();
    // A misspelt key: the file's own rules refuse it.
    gw.rewrite(|yaml| format!("{}bogus_key: 1\n", yaml.replace(OLD_HOST, NEW_HOST)));
    let r = post_reload(gw.admin, &[]);
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("\"outcome\":\"failure\""), "{}", r.text());
    assert!(r.text().contains("bogus_key"), "{}", r.text());
    assert_eq!(metric_at(gw.admin, FAILED, 1.0), 1.0);
    assert_eq!(metric_at(gw.admin, LAST_OK, 0.0), 0.0);
    assert!(serves_urls_on(gw.addr, OLD_HOST));

    // A name that does not resolve: only building the pools finds it; SIGHUP this time.
    gw.rewrite(|_| {
        good.replace(
            "upstreams: [\"127.0.0.1:",
            "upstreams: [\"no-such-host.invalid:",
        )
    });
    gw.signal("HUP");
    assert_eq!(metric_at(gw.admin, FAILED, 2.0), 2.0);
    assert!(gw.running(), "SIGHUP ended the process");
    assert!(serves_urls_on(gw.addr, OLD_HOST));
    let log = poll_until(
        Duration::from_secs(5),
        || gw.log_text(),
        |l| l.contains("stores[0].storefront.upstreams[0]"),
    );
    assert!(log.contains("configuration reload failed"), "{log}");
    assert!(log.contains("stores[0].storefront.upstreams[0]"), "{log}");

    // Fixed: the next reload serves it, and says which file by its hash.
    gw.rewrite(|_| good.replace(OLD_HOST, NEW_HOST));
    let r = post_reload(gw.admin, &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let expected = sha256_prefix(&std::fs::read(&gw.config).unwrap());
    assert!(
        r.text().contains(&format!("\"hash\":\"{expected}\"")),
        "{}",
        r.text()
    );
    assert_eq!(metric_at(gw.admin, LAST_OK, 1.0), 1.0);
    assert!(serves_urls_on(gw.addr, NEW_HOST));
}

/// The first 8 bytes of the SHA-256 of `bytes`, in hex.
fn sha256_prefix(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    d.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_watched_file_is_reloaded_when_its_content_changes() {
    let top = "reload:\n  watch: true\n  watch_interval_ms: 200\n";
    let (_sim, gw) = GatewayProcess::with_demo_store(top);
    gw.rewrite(|yaml| yaml.replace(OLD_HOST, NEW_HOST));
    assert!(serves_urls_on(gw.addr, NEW_HOST));
    assert_eq!(metric_at(gw.admin, RELOADED, 1.0), 1.0);

    // An invalid file is reported once, not at every look.
    gw.rewrite(|yaml| format!("{yaml}bogus_key: 1\n"));
    assert_eq!(metric_at(gw.admin, FAILED, 1.0), 1.0);
    let later = poll_until(
        Duration::from_secs(1),
        || metric_at(gw.admin, FAILED, 1.0),
        |n| *n > 1.0,
    );
    assert_eq!(later, 1.0, "the same invalid file was reported again");
    assert!(serves_urls_on(gw.addr, NEW_HOST));
}

#[test]
fn what_needs_a_restart_is_reported_and_kept() {
    let (_sim, gw) = GatewayProcess::with_demo_store("");
    gw.rewrite(|yaml| format!("threads: 3\nclients:\n  idle_timeout_ms: 1234\n{yaml}"));
    let r = post_reload(gw.admin, &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text()
            .contains("\"restart_needed\":[\"threads\",\"clients\"]"),
        "{}",
        r.text()
    );
    // Reloading again still reports them: they have not been applied.
    let again = post_reload(gw.admin, &[]);
    assert!(again.text().contains("\"threads\""), "{}", again.text());
    assert_eq!(send(gw.addr, &available_request()).status, 200);
}

#[test]
fn a_reload_keeps_the_canary_share_an_operator_set_unless_the_file_changes_it() {
    let pools = Pools::demo();
    let stores = canary_store(&[pools.stable.addr], &[pools.canary.addr], 10.0, "", "");
    let gw = GatewayProcess::start(&stores, "", &[]);
    let set = request(
        "POST",
        "/canary/Citrix/Store",
        &[("Content-Type", "application/json")],
        "{\"share\": 37}",
    );
    assert_eq!(send(gw.admin, &set).status, 200);
    assert_eq!(post_reload(gw.admin, &[]).status, 200);
    let view = send(gw.admin, &get("/canary/Citrix/Store")).text();
    assert!(view.contains("\"share_percent\":37"), "{view}");

    gw.rewrite(|yaml| yaml.replace("share: 10", "share: 20"));
    assert_eq!(post_reload(gw.admin, &[]).status, 200);
    let view = send(gw.admin, &get("/canary/Citrix/Store")).text();
    assert!(view.contains("\"share_percent\":20"), "{view}");
}

#[test]
fn reload_needs_the_admin_token_and_rotates_it() {
    let dir = std::env::temp_dir().join(format!("sessiongate-reload-token-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("admin.token");
    let (old, new) = ("A".repeat(44), "B".repeat(44));
    std::fs::write(&file, &old).unwrap();
    let top = format!("admin_token_file: {}\n", file.display());
    let (_sim, gw) = GatewayProcess::with_demo_store(&top);
    let bearer = |t: &str| format!("Bearer {t}");

    let r = post_reload(gw.admin, &[]);
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.header("www-authenticate").is_some());
    assert_eq!(
        post_reload(gw.admin, &[("Authorization", &bearer(&new))]).status,
        401
    );
    std::fs::write(&file, &new).unwrap();
    assert_eq!(
        post_reload(gw.admin, &[("Authorization", &bearer(&old))]).status,
        200
    );
    // The reload read the new token.
    assert_eq!(
        post_reload(gw.admin, &[("Authorization", &bearer(&old))]).status,
        401
    );
    assert_eq!(
        post_reload(gw.admin, &[("Authorization", &bearer(&new))]).status,
        200
    );
    assert_eq!(
        metric_at(
            gw.admin,
            "sessiongate_admin_denied_total{reason=\"unauthorized\"}",
            3.0
        ),
        3.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn health_checks_follow_the_reloaded_pools() {
    let sim = Sim::demo();
    let dead = free_addr();
    let stores = store_yaml(
        "/Citrix/Store",
        "https://ws.example.com/Citrix/Store",
        sim.addr,
        "",
    )
    .replace(
        "health_check_interval_ms: 0",
        "health_check_interval_ms: 200",
    );
    let gw = GatewayProcess::start(&stores, "", &[]);
    let ready = |status: u16| {
        poll_until(
            Duration::from_secs(5),
            || send(gw.admin, &get("/readyz")).status,
            |s| *s == status,
        )
    };
    assert_eq!(ready(200), 200);
    gw.rewrite(|yaml| yaml.replace(&sim.addr.to_string(), &dead.to_string()));
    assert_eq!(post_reload(gw.admin, &[]).status, 200);
    assert_eq!(
        ready(503),
        503,
        "the new pool's dead server was not checked"
    );
    gw.rewrite(|yaml| yaml.replace(&dead.to_string(), &sim.addr.to_string()));
    assert_eq!(post_reload(gw.admin, &[]).status, 200);
    assert_eq!(ready(200), 200);
}

/// A certificate renewed in place (same files, as cert-manager or certbot do) is presented from
/// the next handshake after a reload; the listener stays, and connections keep working.
#[test]
fn a_reload_renews_the_https_listeners_certificate() {
    let (old_ca, new_ca) = (Pki::new("Old CA"), Pki::new("New CA"));
    let (cert, key) = old_ca.issue("gateway", &["gateway.test"]);
    let sim = Sim::demo();
    let stores = store_yaml(
        "/Citrix/Store",
        "https://ws.example.com/Citrix/Store",
        sim.addr,
        "",
    );
    let listen = |addr: SocketAddr| {
        format!(
            "[{{address: \"{addr}\", certificate_file: {}, key_file: {}}}]",
            cert.display(),
            key.display()
        )
    };
    let gw = GatewayProcess::start_listening(listen, &stores, "", &[]);
    let client = |pki: &Pki| pki.client(&[b"http/1.1"]);
    let presented = |pki: &Pki| TlsConn::handshake(gw.addr, "gateway.test", client(pki));
    assert_eq!(
        poll_until(
            Duration::from_secs(10),
            || presented(&old_ca),
            Result::is_ok
        ),
        Ok(())
    );
    assert!(presented(&new_ca).is_err());

    // The renewal writes new files over the old ones.
    let (renewed_cert, renewed_key) = new_ca.issue("gateway", &["gateway.test"]);
    std::fs::copy(&renewed_cert, &cert).unwrap();
    std::fs::copy(&renewed_key, &key).unwrap();
    let r = post_reload(gw.admin, &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("\"restart_needed\":[]"), "{}", r.text());
    assert_eq!(presented(&new_ca), Ok(()));
    assert!(presented(&old_ca).is_err());
    let mut conn = TlsConn::open(gw.addr, "gateway.test", client(&new_ca));
    assert_eq!(conn.roundtrip(&available_request()).status, 200);
}
