//! A small RFC 7662 token introspection endpoint on loopback, one thread per connection, that
//! records what it was asked (lint allowances come from `mod.rs`).
//!
//! The answer depends on the token:
//! - `good` and `good-<n>`: active for 10 minutes, `sub` `CORP\alice`, `username`
//!   `alice@corp.example`, `groups` `["S-1-5-32-544"]`, `aud` `["x", "sessiongate"]`;
//! - `short-<exp>`: the same, active until the unix time `exp`;
//! - `expired`: the same with an `exp` in the past; `wrongaud`: with `aud` `["x", "elsewhere"]`;
//! - `slow`: the `good` answer after 5 s; `garbage`: not JSON; `error`: a 500;
//! - anything else (`inactive`, `stolen`, ...): `{"active":false}`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_rustls::rustls::{ServerConfig, ServerConnection, StreamOwned};

use super::unix_now;

/// One request as the endpoint saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Request line and header lines, CRLFs and the empty line included.
    pub head: String,
    pub body: String,
}

/// A running endpoint; it lives as long as the test process.
pub struct Introspection {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Introspection {
    pub fn start() -> Introspection {
        Introspection::start_with(None)
    }

    /// The endpoint over HTTPS with `tls` (see [`super::tls::Pki::server_config`]).
    pub fn start_tls(tls: Arc<ServerConfig>) -> Introspection {
        Introspection::start_with(Some(tls))
    }

    fn start_with(tls: Option<Arc<ServerConfig>>) -> Introspection {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let log = log.clone();
                let tls = tls.clone();
                std::thread::spawn(move || match tls {
                    None => serve(stream, &log),
                    Some(config) => {
                        let Ok(conn) = ServerConnection::new(config) else {
                            return;
                        };
                        serve(StreamOwned::new(conn, stream), &log);
                    }
                });
            }
        });
        Introspection { addr, seen }
    }

    /// The endpoint's URL, as a configuration names it.
    pub fn url(&self) -> String {
        format!("http://{}/oauth2/introspect", self.addr)
    }

    /// How many requests it has read.
    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// The last request it read.
    pub fn last(&self) -> Seen {
        self.seen.lock().unwrap().last().cloned().unwrap()
    }
}

/// Read one request, record it, answer it and close.
fn serve(stream: impl Read + Write, log: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream);
    let Some(req) = read_request(&mut reader) else {
        return;
    };
    log.lock().unwrap().push(req.clone());
    let token = req
        .body
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .unwrap_or("");
    let (status, body) = answer(token);
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = reader.get_mut().write_all(reply.as_bytes());
    let _ = reader.get_mut().flush();
}

/// The head up to the empty line, then a body of the declared Content-Length.
fn read_request(reader: &mut impl BufRead) -> Option<Seen> {
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        head,
        body: String::from_utf8(body).ok()?,
    })
}

fn answer(token: &str) -> (&'static str, String) {
    let now = unix_now();
    let active = |exp: u64, aud: &str| {
        format!(
            r#"{{"active":true,"exp":{exp},"nbf":{},"aud":["x","{aud}"],"sub":"CORP\\alice","username":"alice@corp.example","groups":["S-1-5-32-544"]}}"#,
            now - 10
        )
    };
    match token {
        "expired" => ("200 OK", active(now - 100, "sessiongate")),
        "wrongaud" => ("200 OK", active(now + 600, "elsewhere")),
        "garbage" => ("200 OK", "<html>not json</html>".into()),
        "error" => ("500 Internal Server Error", "{}".into()),
        "slow" => {
            // The stub plays a slow server: this sleep is the behaviour under test.
            std::thread::sleep(Duration::from_secs(5));
            ("200 OK", active(now + 600, "sessiongate"))
        }
        t if t.starts_with("short-") => {
            let exp = t.trim_start_matches("short-").parse().unwrap_or(0);
            ("200 OK", active(exp, "sessiongate"))
        }
        t if t == "good" || t.starts_with("good-") => ("200 OK", active(now + 600, "sessiongate")),
        _ => ("200 OK", r#"{"active":false}"#.into()),
    }
}
