//! `sessiongate demo`: the embedded default configuration (`conf/demo.yaml`) in front of a
//! simulated StoreFront store, with commands to paste into a shell.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;

use crate::cli::DemoArgs;
use crate::sim::storefront::StoreFrontSim;
use crate::{config, server};

/// The embedded default configuration.
pub const DEMO_CONFIG: &str = include_str!("../conf/demo.yaml");
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:9100";
pub const DEFAULT_STOREFRONT_LISTEN: &str = "127.0.0.1:8081";

/// The demo configuration with the addresses of `args`.
pub fn config_text(args: &DemoArgs) -> String {
    DEMO_CONFIG
        .replace(DEFAULT_LISTEN, &args.listen)
        .replace(DEFAULT_ADMIN_LISTEN, &args.admin_listen)
        .replace(DEFAULT_STOREFRONT_LISTEN, &args.storefront_listen)
}

/// The commands printed for the user, in order.
pub fn instructions(public_url: &str, admin: &str, notepad_session: &str) -> String {
    let sessions = format!("{public_url}/sessions/v1");
    let params = |client: &str, extra: &str| {
        format!(
            "'<sessionparams xmlns=\"http://citrix.com/delivery-services/1-0/sessionparams\"><clientName>{client}</clientName>{extra}</sessionparams>'"
        )
    };
    format!(
        "sessiongate demo: gateway on {public_url}, admin on http://{admin}\n\
         Users: alice (token demo-token-alice), bob (token demo-token-bob).\n\
         Try, in another shell:\n\n\
         # 1. List alice's sessions from a new device (disconnected ones, and active ones elsewhere):\n\
         curl -s -X POST {sessions}/available -H 'Authorization: CitrixAuth demo-token-alice' -H 'Accept: application/vnd.citrix.sessionstate+xml' -H 'Content-Type: application/vnd.citrix.sessionparams+xml' --data {list}\n\n\
         # 2. Reconnect to the disconnected Notepad session through the launch URL of the list (answer: an ICA file):\n\
         curl -s -X POST {sessions}/{notepad_session}/launch/ica -H 'Authorization: CitrixAuth demo-token-alice' -H 'Accept: application/vnd.citrix.launchdata+xml' -H 'Content-Type: application/vnd.citrix.launchparams+xml' --data '<launchparams xmlns=\"http://citrix.com/delivery-services/1-0/launchparams\"><clientName>NEW-DEVICE</clientName></launchparams>'\n\n\
         # 3. Disconnect alice's sessions on that device:\n\
         curl -s -X POST {sessions}/disconnect -H 'Authorization: CitrixAuth demo-token-alice' -H 'Accept: application/vnd.citrix.sessionresults+xml' -H 'Content-Type: application/vnd.citrix.sessionparams+xml' --data {disconnect}\n\n\
         # 4. No token: the gateway answers 401 with a CitrixAuth challenge:\n\
         curl -si -X POST {sessions}/available -H 'Content-Type: application/vnd.citrix.sessionparams+xml' --data {plain}\n\n\
         # 5. What the gateway counted:\n\
         curl -s http://{admin}/metrics | grep '^sessiongate_'\n",
        list = params("NEW-DEVICE", "<includeActiveSessions>true</includeActiveSessions>"),
        disconnect = params("NEW-DEVICE", ""),
        plain = params("NEW-DEVICE", ""),
    )
}

/// Start the simulator and the gateway; returns when the gateway is told to stop (Ctrl-C).
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let config = config::from_yaml(&config_text(args), "embedded demo configuration")?;
    let sim_addr: SocketAddr = args
        .storefront_listen
        .parse()
        .context("--storefront-listen must be ip:port")?;

    let sim = StoreFrontSim::demo();
    let _sim = server::Running::spawn(server::standalone(sim.service(&args.storefront_listen)));
    if !server::wait_for_listener(sim_addr, Duration::from_secs(5)) {
        anyhow::bail!("the simulated StoreFront server did not start on {sim_addr}");
    }

    let notepad = sim
        .sessions()
        .into_iter()
        .find(|s| s.app == "Notepad")
        .map(|s| s.id)
        .unwrap_or_default();
    let public_url = config
        .stores
        .first()
        .map(|s| s.public_url.clone())
        .unwrap_or_default();
    // Whoever started the demo may stop reading its output; that must not stop the gateway.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}",
        instructions(&public_url, &args.admin_listen, &notepad)
    )
    .and_then(|()| out.flush());
    drop(out);
    let gateway = server::build(&config, None)?;
    gateway.run_forever()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_is_valid_with_other_addresses() {
        let args = DemoArgs {
            listen: "127.0.0.1:18080".into(),
            admin_listen: "127.0.0.1:19100".into(),
            storefront_listen: "127.0.0.1:18081".into(),
        };
        let c = config::from_yaml(&config_text(&args), "demo").unwrap();
        assert_eq!(c.listen, vec!["127.0.0.1:18080".parse().unwrap()]);
        assert_eq!(
            c.stores[0].public_url,
            "http://127.0.0.1:18080/Citrix/Store"
        );
    }
}
