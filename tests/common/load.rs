//! Steady load for tests that change a running gateway (upgrade, reload): client threads send
//! one request after another until told to stop, each answer that is not a 200 counted as a
//! failure with what went wrong (lint allowances come from `mod.rs`).

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::raw::read_response;
use super::{get, send};

/// One request on a fresh connection: its status, or why there was none.
pub fn one_request(addr: SocketAddr, request: &[u8]) -> Result<u16, String> {
    let stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    exchange(&mut reader, request)
}

/// One request on `reader`'s connection: its status, or why there was none.
fn exchange(reader: &mut BufReader<TcpStream>, request: &[u8]) -> Result<u16, String> {
    reader
        .get_mut()
        .write_all(request)
        .map_err(|e| format!("write: {e}"))?;
    read_response(reader, false)
        .map(|r| r.status)
        .map_err(|reply| format!("{reply:?}"))
}

/// How a client thread connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connections {
    /// A new connection for every request.
    Fresh,
    /// One connection for the whole run: it must survive whatever the test does.
    KeptAlive,
}

/// Client threads under way.
pub struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<(usize, Vec<String>)>>,
}

impl Load {
    /// `clients` threads sending `request` to `addr` until [`Load::finish`].
    pub fn start(addr: SocketAddr, clients: usize, how: Connections, request: &[u8]) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..clients)
            .map(|_| {
                let (stop, request) = (stop.clone(), request.to_vec());
                std::thread::spawn(move || client(addr, how, &request, &stop))
            })
            .collect();
        Load { stop, threads }
    }

    /// Stop the clients: the requests answered 200, and every failure.
    pub fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let (mut ok, mut failed) = (0, Vec::new());
        for t in self.threads {
            let (o, f) = t.join().unwrap();
            ok += o;
            failed.extend(f);
        }
        (ok, failed)
    }
}

fn client(
    addr: SocketAddr,
    how: Connections,
    request: &[u8],
    stop: &AtomicBool,
) -> (usize, Vec<String>) {
    let (mut ok, mut failed) = (0, Vec::new());
    let mut kept = None;
    while !stop.load(Ordering::Relaxed) {
        let status = match how {
            Connections::Fresh => one_request(addr, request),
            Connections::KeptAlive => {
                let reader = kept.get_or_insert_with(|| {
                    let s = TcpStream::connect(addr).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    BufReader::new(s)
                });
                exchange(reader, request)
            }
        };
        match status {
            Ok(200) => ok += 1,
            Ok(status) => failed.push(format!("status {status}")),
            Err(why) => {
                failed.push(why);
                // A kept connection that failed is gone: count it once, then stop this client.
                if how == Connections::KeptAlive {
                    break;
                }
            }
        }
    }
    (ok, failed)
}

/// Requests the gateway behind `admin` has counted, all labels summed.
pub fn requests_counted(admin: SocketAddr) -> f64 {
    send(admin, &get("/metrics"))
        .text()
        .lines()
        .filter(|l| l.starts_with("sessiongate_requests_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
