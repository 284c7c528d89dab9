//! The binary as operators use it: `-t` on every shipped configuration, errors that name the key,
//! `-c` serving traffic, and `demo` with the commands it prints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::*;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sessiongate"))
}

/// The key files the shipped configurations name, as a test machine has them: `/etc/sessiongate/`
/// (the reference) and `@KEYS@` (the demo) point at a directory with the identity fixtures and a
/// session-id key.
fn with_test_keys(text: &str, dir: &Path) -> String {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/identity");
    std::fs::create_dir_all(dir).unwrap();
    for (name, source) in [
        ("idp-public.pem", "rs256-public.pem"),
        ("token-signing.key", "hs256.secret"),
        ("session-id.key", "hs256.secret"),
    ] {
        std::fs::copy(fixtures.join(source), dir.join(name)).unwrap();
    }
    let dir = dir.display().to_string();
    text.replace("/etc/sessiongate", &dir)
        .replace("@KEYS@", &dir)
}

#[test]
fn every_shipped_configuration_passes_check() {
    let mut checked = 0;
    let keys = std::env::temp_dir().join(format!("sessiongate-cli-keys-{}", std::process::id()));
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("conf")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = with_test_keys(&std::fs::read_to_string(&path).unwrap(), &keys);
            let file = keys.join(path.file_name().unwrap());
            std::fs::write(&file, text).unwrap();
            let out = bin().arg("-t").arg("-c").arg(&file).output().unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(String::from_utf8_lossy(&out.stdout).contains("configuration is valid"));
            checked += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&keys);
    assert!(
        checked >= 2,
        "conf/ holds the reference and the demo configuration"
    );
}

#[test]
fn bad_configurations_fail_check_naming_the_key() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conf");
    let out = bin()
        .arg("-t")
        .arg("-c")
        .arg(dir.join("bad_unknown_key.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("upstream_pth"), "{err}");
    assert!(err.contains("fix:"), "{err}");

    let out = bin()
        .arg("-t")
        .arg("-c")
        .arg(dir.join("bad_values.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for key in [
        "listen[0]",
        "stores[0].path",
        "stores[0].public_url",
        "stores[0].max_body_bytes",
        "stores[0].storefront.upstreams",
    ] {
        assert!(err.contains(key), "{key} missing from: {err}");
    }

    let out = bin()
        .arg("-t")
        .arg("-c")
        .arg("/nonexistent.yaml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = bin().output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sessiongate demo"));
}

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn dash_c_serves_traffic() {
    let sim = Sim::demo();
    let (addr, admin) = (free_addr(), free_addr());
    let file = std::env::temp_dir().join(format!("sessiongate-cli-{}.yaml", addr.port()));
    std::fs::write(
        &file,
        format!(
            "listen: [\"{addr}\"]\nadmin_listen: \"{admin}\"\ngrace_period_seconds: 0\nstores:\n{}",
            store_yaml(
                "/Citrix/Store",
                "https://ws.example.com/Citrix/Store",
                sim.addr,
                ""
            )
        ),
    )
    .unwrap();
    let _child = Child(
        bin()
            .arg("-c")
            .arg(&file)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(sessiongate::server::wait_for_listener(
        addr,
        Duration::from_secs(20)
    ));
    let r = send(
        addr,
        &sessions_post(
            "/Citrix/Store/sessions/v1/available",
            ALICE,
            SESSION_STATE,
            &params("C", ""),
        ),
    );
    assert_eq!(r.status, 200);
    assert_eq!(send(admin, &get("/healthz")).status, 200);
    let _ = std::fs::remove_file(file);
}

#[test]
fn demo_prints_commands_that_work() {
    let (listen, admin, sf) = (free_addr(), free_addr(), free_addr());
    let (farm1, farm2) = (free_addr(), free_addr());
    let mut child = Child(
        bin()
            .args([
                "demo",
                "--listen",
                &listen.to_string(),
                "--admin-listen",
                &admin.to_string(),
            ])
            .args(["--storefront-listen", &sf.to_string()])
            .args(["--farm1-listen", &farm1.to_string()])
            .args(["--farm2-listen", &farm2.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    // Read the output on a thread that keeps the pipe open for as long as the demo runs.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut commands = Vec::new();
    let mut token_line = String::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
        if line.starts_with("curl ") {
            commands.push(line.clone());
        }
        if line.starts_with("TOKEN=") {
            token_line = line.clone();
        }
        if line.contains("/metrics") {
            break;
        }
    }
    assert_eq!(commands.len(), 7, "{commands:?}");
    assert!(
        token_line.len() > 20,
        "the demo prints a token for the farm store"
    );
    assert!(sessiongate::server::wait_for_listener(
        listen,
        Duration::from_secs(20)
    ));
    let run = |cmd: &str| {
        let script = format!("{token_line}\n{cmd}");
        let out = Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .expect("sh");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let list = run(&commands[0]);
    assert!(list.contains("<sessionState"), "{list}");
    assert!(
        list.contains(&format!("http://{listen}/Citrix/Store/sessions/v1/")),
        "{list}"
    );
    assert!(!list.contains(&sf.to_string()), "{list}");
    let launch = run(&commands[1]);
    assert!(launch.contains("LogonTicket="), "{launch}");
    let disconnect = run(&commands[2]);
    assert!(disconnect.contains("status=\"success\""), "{disconnect}");
    let challenge = run(&commands[3]);
    assert!(challenge.contains("401"), "{challenge}");
    assert!(
        challenge
            .to_lowercase()
            .contains("www-authenticate: citrixauth realm="),
        "{challenge}"
    );
    // The farm-backed store: both farms merged, the XA65 farm's active sessions left alone.
    let legacy = run(&commands[4]);
    assert!(legacy.contains("enumeration=\"full\""), "{legacy}");
    assert!(
        legacy.contains("<publishername>XA65</publishername>"),
        "{legacy}"
    );
    assert!(
        legacy.contains("<publishername>XD7</publishername>"),
        "{legacy}"
    );
    let url = urls(&legacy)
        .into_iter()
        .next()
        .expect("a launch URL in the farm listing");
    assert!(url.starts_with(&format!("http://{listen}/Citrix/Legacy/sessions/v1/")));
    let launch = run(&commands[5].replace("PASTE-THE-URL", &url));
    assert!(launch.contains("ClearPassword="), "{launch}");
    let metrics = run(&commands[6]);
    assert!(metrics.contains("sessiongate_requests_total"), "{metrics}");
    assert!(
        metrics.contains("sessiongate_farm_active_session_queries_total{action=\"stripped\",farm=\"XA65\",store=\"legacy\"} 1"),
        "{metrics}"
    );
}
