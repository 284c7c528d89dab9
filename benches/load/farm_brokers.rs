//! The simulated legacy farms of `benches/load/run`, in a process of their own so that the
//! gateway's CPU is measured apart from theirs: one XD7 farm (XML broker) per address given,
//! each listing two disconnected sessions of `CORP\alice`.
//!
//! `farm-brokers ADDR...`, e.g. `farm-brokers 127.0.0.1:18620 127.0.0.1:18621`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sessiongate::server::{standalone, Running};
use sessiongate::sim::farm::{FarmSim, FarmSimConfig};

fn main() {
    let addrs: Vec<String> = std::env::args().skip(1).collect();
    if addrs.is_empty() {
        eprintln!("usage: farm-brokers ADDR...");
        std::process::exit(2);
    }
    let mut running = Vec::new();
    for (i, addr) in addrs.iter().enumerate() {
        let sim = FarmSim::new(FarmSimConfig::new(&format!("Farm{i}"), false));
        sim.add_session("CORP\\alice", "Notepad", "old-pc", false);
        sim.add_session("CORP\\alice", "Excel", "old-pc", false);
        running.push(Running::spawn(standalone(sim.service(addr), None)));
    }
    // Until killed by the load script.
    loop {
        std::thread::park();
    }
}
