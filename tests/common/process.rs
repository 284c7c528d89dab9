//! The gateway binary as operators run it, in a child process: `-u -c FILE` on listeners this
//! process bound and hands over, with its standard error kept in a file (lint allowances come
//! from `mod.rs`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sessiongate::server::Handoff;

use super::listener;

/// A running gateway process; killed on drop.
pub struct GatewayProcess {
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    /// Where its standard error goes.
    pub log: PathBuf,
    pub config: PathBuf,
    child: Child,
}

impl GatewayProcess {
    /// Run the binary with `stores` (the list items of `stores:`), `top` (more top-level YAML
    /// lines; `grace_period_seconds` defaults to 0) and `env` in its environment.
    pub fn start(stores: &str, top: &str, env: &[(&str, &str)]) -> GatewayProcess {
        GatewayProcess::start_listening(|addr| format!("[\"{addr}\"]"), stores, top, env)
    }

    /// [`Self::start`] with the `listen:` value written by `listen` for the client address
    /// (an HTTPS listener's map, say).
    pub fn start_listening(
        listen: impl FnOnce(SocketAddr) -> String,
        stores: &str,
        top: &str,
        env: &[(&str, &str)],
    ) -> GatewayProcess {
        let (client, admin_listener) = (listener(), listener());
        let addr = client.local_addr().unwrap();
        let admin = admin_listener.local_addr().unwrap();
        let handoff = Handoff::start(vec![client, admin_listener]).unwrap();
        let base = std::env::temp_dir().join(format!("sessiongate-process-{}", addr.port()));
        let (config, log) = (base.with_extension("yaml"), base.with_extension("log"));
        // No grace period unless `top` gives one: tests stop their gateways at once.
        let grace = if top.contains("grace_period_seconds:") {
            ""
        } else {
            "grace_period_seconds: 0\n"
        };
        std::fs::write(
            &config,
            format!(
                "listen: {}\nadmin_listen: \"{admin}\"\n{grace}upgrade_socket: {}\n{top}stores:\n{stores}",
                listen(addr),
                handoff.socket().display()
            ),
        )
        .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_sessiongate"))
            .arg("-u")
            .arg("-c")
            .arg(&config)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // Returns once the child has taken the sockets: requests queue on them from now on.
        drop(handoff);
        GatewayProcess {
            addr,
            admin,
            log,
            config,
            child,
        }
    }

    /// The binary in front of one simulated StoreFront store at /Citrix/Store (the simulator is
    /// returned too: it must outlive the gateway's use), with `top` as in [`Self::start`].
    pub fn with_demo_store(top: &str) -> (super::Sim, GatewayProcess) {
        let sim = super::Sim::demo();
        let stores = super::store_yaml(
            "/Citrix/Store",
            "https://ws.example.com/Citrix/Store",
            sim.addr,
            "",
        );
        let gw = GatewayProcess::start(&stores, top, &[]);
        (sim, gw)
    }

    /// A graceful upgrade, as an operator does it: start a new process with `-u` on the same
    /// configuration, then send SIGQUIT to the old one, which hands its listening sockets over
    /// through `upgrade_socket` and stops once its in-flight requests are done. The new process
    /// is this one from now on; the old one is returned, to see it exit.
    pub fn upgrade(&mut self) -> Child {
        let socket = std::fs::read_to_string(&self.config)
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("upgrade_socket: ").map(PathBuf::from))
            .unwrap();
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log)
            .unwrap();
        let new = Command::new(env!("CARGO_BIN_EXE_sessiongate"))
            .arg("-u")
            .arg("-c")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        // The old process tries to connect for a few seconds; start it once the new one listens.
        super::poll_until(Duration::from_secs(10), || socket.exists(), |e| *e);
        self.signal("QUIT");
        std::mem::replace(&mut self.child, new)
    }

    /// Change its configuration file: `edit` gets the text and returns the new one, which
    /// replaces the file the way a Kubernetes ConfigMap update does (a new file renamed over
    /// the old path, so a reader sees one or the other, never half).
    pub fn rewrite(&self, edit: impl FnOnce(&str) -> String) {
        let text = std::fs::read_to_string(&self.config).unwrap();
        let next = self.config.with_extension("yaml.next");
        std::fs::write(&next, edit(&text)).unwrap();
        std::fs::rename(&next, &self.config).unwrap();
    }

    /// Send it a signal (`HUP`, `TERM`, ...), as `kill -SIG` does.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Whether the process still runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Everything it has logged so far.
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
        let _ = std::fs::remove_file(&self.log);
    }
}
