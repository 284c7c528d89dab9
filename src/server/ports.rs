//! Failing fast when the gateway cannot listen.
//!
//! Pingora retries a bind that finds its address in use for 30 s; then the listener's thread
//! panics while the rest of the process (the admin listener, `/healthz` included) keeps running,
//! so an operator or systemd would believe the gateway up with nothing listening. Two guards:
//!
//! * [`check`] binds every configured address once before Pingora starts (and releases it at
//!   once), so a taken port is one clear line and a non-zero exit within milliseconds;
//! * [`exit_on_lost_listener`] ends the process if a listener still fails to start (the port was
//!   taken between the check and Pingora's bind), instead of serving on without it.
//!
//! HTTPS listeners cannot fail at start over their certificate: it is loaded and checked before
//! the server is built, and handed to rustls already loaded (`super::certificate`), so Pingora's
//! "Failed to load provided certificates" panic is unreachable and not listed here.
//!
//! Neither applies to an upgrade (`-u`): the old process holds the ports and hands them over.

use std::net::{SocketAddr, TcpListener};

use crate::config::Config;

/// An address the gateway cannot listen on, with the key that names it.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr} ({key}): {error}; stop what holds it (another sessiongate?) or change `{key}`")]
pub struct Unavailable {
    pub key: String,
    pub addr: SocketAddr,
    pub error: std::io::Error,
}

/// Bind each of `config`'s listening addresses once: the first that cannot be bound.
pub fn check(config: &Config) -> Result<(), Unavailable> {
    check_addresses(&config.listen, config.admin_listen)
}

/// [`check`] on the addresses themselves.
fn check_addresses(listen: &[SocketAddr], admin_listen: SocketAddr) -> Result<(), Unavailable> {
    let listen = listen
        .iter()
        .enumerate()
        .map(|(i, addr)| (format!("listen[{i}]"), *addr));
    let admin = std::iter::once(("admin_listen".to_string(), admin_listen));
    for (key, addr) in listen.chain(admin) {
        // std sets SO_REUSEADDR as Pingora does, so only a live listener makes this fail, not
        // connections of a previous run lingering in TIME_WAIT.
        if let Err(error) = TcpListener::bind(addr) {
            return Err(Unavailable { key, addr, error });
        }
    }
    Ok(())
}

/// Pingora's message when a listening service cannot build its listeners.
const LISTENER_PANIC: &str = "Failed to build listeners";

/// Make a listener that fails to start end the process with one line and exit status 1.
pub fn exit_on_lost_listener() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains(LISTENER_PANIC) {
            eprintln!("sessiongate: a listener could not start, exiting: {message}");
            std::process::exit(1);
        }
        default(info);
    }));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_names_its_key_and_address() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let free = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = check_addresses(&[free, addr], free).unwrap_err();
        assert_eq!(err.key, "listen[1]");
        assert_eq!(err.addr, addr);
        let line = err.to_string();
        assert!(
            line.contains(&addr.to_string()) && line.contains("`listen[1]`"),
            "{line}"
        );
        assert_eq!(
            check_addresses(&[free], addr).unwrap_err().key,
            "admin_listen"
        );
        drop(taken);
        assert!(check_addresses(&[free], addr).is_ok());
    }
}
