//! The yardstick of `benches/load/run`: a bare Pingora 0.9 reverse proxy with one worker thread,
//! forwarding every request unchanged to one upstream over pooled keep-alive connections. It does
//! nothing sessiongate does (no checks, no body read, no rewrite, no metrics, no log), so the
//! difference in CPU per request between it and sessiongate is the price of the inspection.
//!
//! `bare-pingora LISTEN UPSTREAM`, e.g. `bare-pingora 127.0.0.1:18612 127.0.0.1:18610`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use async_trait::async_trait;
use pingora::prelude::{HttpPeer, ProxyHttp, Result, Session};
use pingora::server::configuration::ServerConf;
use pingora::server::Server;

struct Bare {
    upstream: SocketAddr,
}

#[async_trait]
impl ProxyHttp for Bare {
    type CTX = ();

    fn new_ctx(&self) {}

    async fn upstream_peer(&self, _session: &mut Session, _ctx: &mut ()) -> Result<Box<HttpPeer>> {
        Ok(Box::new(HttpPeer::new(self.upstream, false, String::new())))
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        eprintln!("usage: bare-pingora LISTEN UPSTREAM");
        std::process::exit(2);
    };
    let upstream = upstream.parse().expect("UPSTREAM is host:port");
    // Stops at once on SIGTERM (the load script's), without Pingora's graceful wait.
    let conf = ServerConf {
        threads: 1,
        grace_period_seconds: Some(0),
        graceful_shutdown_timeout_seconds: Some(1),
        ..Default::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let mut proxy = pingora::proxy::http_proxy_service(&server.configuration, Bare { upstream });
    proxy.add_tcp(&listen);
    server.add_service(proxy);
    server.run_forever();
}
