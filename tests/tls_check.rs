//! `sessiongate -t` on TLS settings: a certificate or key file that does not load, a key that is
//! not the certificate's, garbage PEM, and an upstream `ca_file` that cannot be used, each named
//! by its key with a fix; a good setup passes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::tls::Pki;

use std::path::Path;
use std::process::Command;

/// `-t` on `yaml` (written into `pki`'s directory): (exit success, stderr).
fn check(pki: &Pki, yaml: &str) -> (bool, String) {
    let file = pki.write("gateway.yaml", yaml);
    let out = Command::new(env!("CARGO_BIN_EXE_sessiongate"))
        .arg("-t")
        .arg("-c")
        .arg(&file)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A plain listener, then an HTTPS one (`listen[1]`) with `cert` and `key`, before a StoreFront
/// store whose `storefront:` section gets `upstream` lines (indented 6 spaces).
fn config(cert: &Path, key: &Path, upstream: &str) -> String {
    format!(
        "listen:\n  - \"127.0.0.1:18480\"\n  - address: \"127.0.0.1:18443\"\n    certificate_file: {}\n    key_file: {}\nadmin_listen: \"127.0.0.1:18490\"\nstores:\n  - path: /Citrix/Store\n    public_url: https://ws.example.com/Citrix/Store\n    storefront:\n      upstreams: [\"127.0.0.1:1\"]\n      upstream_path: /Citrix/Store\n{upstream}",
        cert.display(),
        key.display()
    )
}

/// The one line of `stderr` about `key`, which must carry a fix.
fn line_about<'a>(stderr: &'a str, key: &str) -> &'a str {
    let line = stderr
        .lines()
        .find(|l| l.contains(&format!("- {key}:")))
        .unwrap_or_else(|| panic!("no line about {key}:\n{stderr}"));
    assert!(line.contains("(fix: "), "{line}");
    line
}

#[test]
fn good_certificate_and_ca_pass() {
    let pki = Pki::new("Check CA");
    let (cert, key) = pki.issue("gateway", &["gateway.test"]);
    let upstream = format!(
        "      tls: true\n      host: sf.test\n      ca_file: {}\n",
        pki.ca_file.display()
    );
    let (ok, stderr) = check(&pki, &config(&cert, &key, &upstream));
    assert!(ok, "{stderr}");
}

#[test]
fn missing_certificate_file_names_its_key() {
    let pki = Pki::new("Check CA");
    let (_, key) = pki.issue("gateway", &["gateway.test"]);
    let (ok, stderr) = check(&pki, &config(Path::new("/nonexistent/cert.pem"), &key, ""));
    assert!(!ok);
    let line = line_about(&stderr, "listen[1].certificate_file");
    assert!(line.contains("/nonexistent/cert.pem"), "{line}");
}

#[test]
fn key_of_another_certificate_names_the_key_file() {
    let pki = Pki::new("Check CA");
    let (cert, _) = pki.issue("gateway", &["gateway.test"]);
    let (_, other_key) = pki.issue("other", &["other.test"]);
    let (ok, stderr) = check(&pki, &config(&cert, &other_key, ""));
    assert!(!ok);
    let line = line_about(&stderr, "listen[1].key_file");
    assert!(line.contains("is not the private key"), "{line}");
    // The key itself is never printed.
    let pem = std::fs::read_to_string(&other_key).unwrap();
    let body = pem.lines().nth(1).unwrap();
    assert!(!stderr.contains(body), "{stderr}");
}

#[test]
fn garbage_pem_names_the_file_key() {
    let pki = Pki::new("Check CA");
    let (cert, key) = pki.issue("gateway", &["gateway.test"]);
    let garbage = pki.write("garbage.pem", "this is not PEM at all\n");
    let broken = pki.write(
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
    );
    let (ok, stderr) = check(&pki, &config(&garbage, &key, ""));
    assert!(!ok);
    assert!(line_about(&stderr, "listen[1].certificate_file").contains("holds no PEM certificate"));
    let (ok, stderr) = check(&pki, &config(&broken, &key, ""));
    assert!(!ok);
    line_about(&stderr, "listen[1].certificate_file");
    let (ok, stderr) = check(&pki, &config(&cert, &garbage, ""));
    assert!(!ok);
    assert!(line_about(&stderr, "listen[1].key_file").contains("holds no PEM private key"));
    // A certificate where the key should be is no key either.
    let (ok, stderr) = check(&pki, &config(&cert, &cert, ""));
    assert!(!ok);
    line_about(&stderr, "listen[1].key_file");
}

#[test]
fn unusable_upstream_ca_file_names_its_key() {
    let pki = Pki::new("Check CA");
    let (cert, key) = pki.issue("gateway", &["gateway.test"]);
    let garbage = pki.write("garbage-ca.pem", "not a CA bundle\n");
    for (ca, problem) in [
        (garbage.as_path(), "holds no PEM certificate"),
        (key.as_path(), "not a readable certificate"),
        (Path::new("/nonexistent/ca.pem"), "cannot read"),
    ] {
        let upstream = format!(
            "      tls: true\n      host: sf.test\n      ca_file: {}\n",
            ca.display()
        );
        let (ok, stderr) = check(&pki, &config(&cert, &key, &upstream));
        assert!(!ok);
        let line = line_about(&stderr, "stores[0].storefront.ca_file");
        assert!(line.contains(problem), "{line}");
    }
    // Without tls: true a CA file means nothing: the file's own rules say so.
    let upstream = format!("      ca_file: {}\n", pki.ca_file.display());
    let (ok, stderr) = check(&pki, &config(&cert, &key, &upstream));
    assert!(!ok);
    assert!(
        line_about(&stderr, "stores[0].storefront.ca_file").contains("only applies with tls: true")
    );
}

#[test]
fn misspelt_listener_key_is_named() {
    let pki = Pki::new("Check CA");
    let (cert, key) = pki.issue("gateway", &["gateway.test"]);
    let yaml = config(&cert, &key, "").replace("key_file:", "keyfile:");
    let (ok, stderr) = check(&pki, &yaml);
    assert!(!ok);
    assert!(stderr.contains("keyfile"), "{stderr}");
}
