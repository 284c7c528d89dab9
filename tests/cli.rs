//! The binary as operators use it: `-t` on every shipped configuration, errors that name the key,
//! `-c` serving traffic, and `demo` with the commands it prints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::*;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
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
        ("launch-tag.key", "hs256.secret"),
        ("admin.token", "hs256.secret"),
    ] {
        std::fs::copy(fixtures.join(source), dir.join(name)).unwrap();
    }
    let dir = dir.display().to_string();
    text.replace("/etc/sessiongate", &dir)
        .replace("@KEYS@", &dir)
}

/// A child process killed on drop.
struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `sessiongate demo` on fresh ports, and what it printed: its commands (`curl` and `for`
/// lines) and its `TOKEN=` line, read up to its last line.
struct Demo {
    listen: SocketAddr,
    admin: SocketAddr,
    storefront: SocketAddr,
    canary: SocketAddr,
    commands: Vec<String>,
    token_line: String,
    _child: Child,
}

impl Demo {
    fn start() -> Demo {
        let (listen, admin, sf, canary) = (free_addr(), free_addr(), free_addr(), free_addr());
        let (farm1, farm2, relay) = (free_addr(), free_addr(), free_addr());
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
                .args(["--canary-listen", &canary.to_string()])
                .args(["--farm1-listen", &farm1.to_string()])
                .args(["--farm2-listen", &farm2.to_string()])
                .args(["--relay-listen", &relay.to_string()])
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
            if line.starts_with("curl ") || line.starts_with("for ") {
                commands.push(line.clone());
            }
            if line.starts_with("TOKEN=") {
                token_line = line.clone();
            }
            if line == sessiongate::demo::DEMO_END {
                break;
            }
        }
        Demo {
            listen,
            admin,
            storefront: sf,
            canary,
            commands,
            token_line,
            _child: child,
        }
    }

    /// Run `cmd` in a shell that has the token set; its stdout.
    fn run(&self, cmd: &str) -> String {
        let script = format!("{}\n{cmd}", self.token_line);
        let out = Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .expect("sh");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
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
    let cases: [(&str, Vec<std::ffi::OsString>, &[&str]); 6] = [
        (
            "unknown key",
            vec![
                "-t".into(),
                "-c".into(),
                dir.join("bad_unknown_key.yaml").into(),
            ],
            &["upstream_pth", "fix:"],
        ),
        (
            "bad values",
            vec!["-t".into(), "-c".into(), dir.join("bad_values.yaml").into()],
            &[
                "listen[0]",
                "stores[0].path",
                "stores[0].public_url",
                "stores[0].max_body_bytes",
                "stores[0].storefront.upstreams",
            ],
        ),
        (
            "key files and names",
            vec![
                "-t".into(),
                "-c".into(),
                dir.join("bad_key_files.yaml").into(),
            ],
            &[
                "stores[0].identity.jwt.key_file:",
                "at least 32 bytes",
                "session_id_key_file:",
                "stores[0].farms[0].brokers[0]:",
                "does not resolve",
            ],
        ),
        (
            "canary",
            vec!["-t".into(), "-c".into(), dir.join("bad_canary.yaml").into()],
            &[
                "stores[0].storefront.upstreams[1].weight:",
                "stores[0].storefront.canary.share:",
                "stores[0].storefront.canary.force.trusted[0]:",
                "admin_token_file:",
            ],
        ),
        (
            "missing file",
            vec!["-t".into(), "-c".into(), "/nonexistent.yaml".into()],
            &[],
        ),
        ("no arguments", vec![], &["sessiongate demo"]),
    ];
    for (case, args, wanted) in &cases {
        let out = bin().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{case}");
        let err = String::from_utf8_lossy(&out.stderr);
        for want in *wanted {
            assert!(err.contains(want), "{case}: {want} missing from: {err}");
        }
    }
}

/// `-u` takes over listening sockets through `upgrade_socket`: here from the test, which bound
/// them, as it would from a running gateway on SIGQUIT.
#[test]
fn dash_c_serves_traffic_on_sockets_handed_over_with_dash_u() {
    let sim = Sim::demo();
    let (client, admin_listener) = (listener(), listener());
    let (addr, admin) = (
        client.local_addr().unwrap(),
        admin_listener.local_addr().unwrap(),
    );
    let handoff = sessiongate::server::Handoff::start(vec![client, admin_listener]).unwrap();
    let file = std::env::temp_dir().join(format!("sessiongate-cli-{}.yaml", addr.port()));
    std::fs::write(
        &file,
        format!(
            "listen: [\"{addr}\"]\nadmin_listen: \"{admin}\"\ngrace_period_seconds: 0\nupgrade_socket: {}\nstores:\n{}",
            handoff.socket().display(),
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
            .arg("-u")
            .arg("-c")
            .arg(&file)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // The sockets are handed over once the child asks for them.
    drop(handoff);
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
    let demo = Demo::start();
    let listen = demo.listen;
    assert_eq!(demo.commands.len(), 18, "{:?}", demo.commands);
    assert!(
        demo.token_line.len() > 20,
        "the demo prints a token for the farm store"
    );
    assert!(sessiongate::server::wait_for_listener(
        listen,
        Duration::from_secs(20)
    ));
    let list = demo.run(&demo.commands[0]);
    assert!(list.contains("<sessionState"), "{list}");
    assert!(
        list.contains(&format!("http://{listen}/Citrix/Store/sessions/v1/")),
        "{list}"
    );
    assert!(!list.contains(&demo.storefront.to_string()), "{list}");
    let launch = demo.run(&demo.commands[1]);
    assert!(launch.contains("LogonTicket="), "{launch}");
    let disconnect = demo.run(&demo.commands[2]);
    assert!(disconnect.contains("status=\"success\""), "{disconnect}");
    let challenge = demo.run(&demo.commands[3]);
    assert!(challenge.contains("401"), "{challenge}");
    assert!(
        challenge
            .to_lowercase()
            .contains("www-authenticate: citrixauth realm="),
        "{challenge}"
    );
    // The farm-backed store: both farms merged, the XA65 farm's active sessions left alone.
    let legacy = demo.run(&demo.commands[4]);
    assert!(legacy.contains("enumeration=\"full\""), "{legacy}");
    for farm in ["XA65", "XD7"] {
        assert!(
            legacy.contains(&format!("<publishername>{farm}</publishername>")),
            "{farm}: {legacy}"
        );
    }
    let url = urls(&legacy)
        .into_iter()
        .next()
        .expect("a launch URL in the farm listing");
    assert!(url.starts_with(&format!("http://{listen}/Citrix/Legacy/sessions/v1/")));
    let launch = demo.run(&demo.commands[5].replace("PASTE-THE-URL", &url));
    assert!(launch.contains("ClearPassword="), "{launch}");
    let metrics = demo.run(&demo.commands[6]);
    assert!(metrics.contains("sessiongate_requests_total"), "{metrics}");
    assert!(
        metrics.contains("sessiongate_farm_active_session_queries_total{action=\"stripped\",farm=\"XA65\",store=\"legacy\"} 1"),
        "{metrics}"
    );
    demo_canary_commands_work(&demo);
    // 13: through the XML relay the XA65 farm answers and leaves alice's Excel active (her
    // Notepad was reconnected by step 6, so nothing disconnected is left to list).
    let relayed = demo.run(&demo.commands[17]);
    assert!(
        relayed.contains("<ResponseReconnectSessionData>"),
        "{relayed}"
    );
    assert!(!relayed.contains("<InName>Excel</InName>"), "{relayed}");
    assert!(
        relayed.contains(
            "sessiongate_relay_active_session_queries_total{action=\"stripped\",farm=\"XA65\"} 1"
        ),
        "{relayed}"
    );
}

/// The canary part of the demo's output (commands 8 to 12).
fn demo_canary_commands_work(demo: &Demo) {
    let canary = &demo.commands[7..];
    let fault_switch = format!("http://{}/__sim/fault", demo.canary);
    let admin = format!("http://{}/canary", demo.admin);
    assert!(canary[5].contains(&fault_switch), "{}", canary[5]);
    assert!(canary[4].contains(&admin), "{}", canary[4]);
    // 8: two devices, two pools, each simulator naming itself; 9: forced from loopback.
    for (i, pool) in [(0, "stable"), (1, "canary"), (0, "stable"), (2, "canary")] {
        let out = demo.run(&canary[i]);
        assert_eq!(out.trim(), format!("x-sim-server: {pool}"), "{}", canary[i]);
    }
    // 10: the split counted by pool, and the canary as the admin listener sees it.
    let split = demo.run(&canary[3]);
    assert!(split.contains("pool=\"canary\""), "{split}");
    let state = demo.run(&canary[4]);
    assert!(state.contains("\"state\":\"active\""), "{state}");
    // 11: the canary fails, the loop's canary requests get 500s, the guard rolls back.
    assert_eq!(demo.run(&canary[5]).trim(), "500");
    let looped = demo.run(&canary[6]);
    assert!(
        looped.contains("canary:500") && looped.contains("stable:200"),
        "{looped}"
    );
    let state = poll_until(
        Duration::from_secs(10),
        || demo.run(&canary[7]),
        |s| s.contains("rolled_back"),
    );
    assert!(state.contains("\"state\":\"rolled_back\""), "{state}");
    assert!(state.contains("\"cause\":\"errors\""), "{state}");
    // 12: repaired and resumed.
    assert_eq!(demo.run(&canary[8]).trim(), "none");
    let resumed = demo.run(&canary[9]);
    assert!(resumed.contains("\"state\":\"active\""), "{resumed}");
    assert!(resumed.contains("\"share_percent\":10.0"), "{resumed}");
    assert_eq!(demo.run(&canary[1]).trim(), "x-sim-server: canary");
}

/// A second instance started on the ports of a running one exits at once with one clear line
/// (Pingora alone would retry for 30 s, then serve on without a listener), and the first one
/// keeps serving.
#[test]
fn a_second_instance_on_taken_ports_exits_non_zero_within_seconds() {
    let sim = Sim::demo();
    let (addr, admin) = (free_addr(), free_addr());
    let file = std::env::temp_dir().join(format!("sessiongate-taken-{}.yaml", addr.port()));
    let socket = std::env::temp_dir().join(format!("sessiongate-taken-{}.sock", addr.port()));
    std::fs::write(
        &file,
        format!(
            "listen: [\"{addr}\"]\nadmin_listen: \"{admin}\"\ngrace_period_seconds: 0\nupgrade_socket: {}\nstores:\n{}",
            socket.display(),
            store_yaml("/Citrix/Store", "https://ws.example.com/Citrix/Store", sim.addr, "")
        ),
    )
    .unwrap();
    let start = |stderr: Stdio| bin().arg("-c").arg(&file).stderr(stderr).spawn().unwrap();
    let _first = Child(start(Stdio::null()));
    assert!(sessiongate::server::wait_for_listener(
        admin,
        Duration::from_secs(20)
    ));
    assert!(sessiongate::server::wait_for_listener(
        addr,
        Duration::from_secs(20)
    ));

    let mut second = Child(start(Stdio::piped()));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = second.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut second.0.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr} (listen[0])")),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    // Only the admin port taken: named as such.
    std::fs::write(
        &file,
        std::fs::read_to_string(&file)
            .unwrap()
            .replace(&addr.to_string(), &free_addr().to_string()),
    )
    .unwrap();
    let out = bin().arg("-c").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {admin} (admin_listen)")),
        "{stderr}"
    );

    assert_eq!(send(admin, &get("/healthz")).status, 200);
    let r = send(
        addr,
        &sessions_post(
            "/Citrix/Store/sessions/v1/available",
            ALICE,
            SESSION_STATE,
            &params("C", ""),
        ),
    );
    assert_eq!(r.status, 200, "the first instance still serves");
    let _ = std::fs::remove_file(file);
}
