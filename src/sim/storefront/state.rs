//! The simulated store's state: sessions, logon tickets, and the workspace-control rules that
//! change them (list, disconnect, log off, reconnect). Plain data and logic, no I/O: the HTTP side
//! lives in `http.rs`.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// What a session runs: a published application or a whole desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    App,
    Desktop,
}

/// One session as the store sees it (a copy; changing it changes nothing in the simulator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSnapshot {
    /// URL-safe, unique identifier (16 lowercase hex digits).
    pub id: String,
    /// The user the session belongs to.
    pub user: String,
    /// Initial application (or desktop) name.
    pub app: String,
    pub kind: SessionKind,
    /// `win32`.
    pub server_type: String,
    /// `Farm1`.
    pub publisher: String,
    /// Client name of the end-point the session is (or was last) connected to.
    pub client_name: String,
    /// Device id of that end-point, when it gave one.
    pub device_id: Option<String>,
    /// `true`: connected to `client_name`; `false`: disconnected.
    pub active: bool,
}

impl SessionSnapshot {
    /// The end-point identity: the device id when known, else the client name.
    fn endpoint(&self) -> &str {
        self.device_id.as_deref().unwrap_or(&self.client_name)
    }
}

/// The end-point a request comes from, as its parameters name it.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    pub client_name: &'a str,
    pub device_id: Option<&'a str>,
}

impl Endpoint<'_> {
    /// The identity: "if specified, [deviceId] overrides the clientName in identifying the
    /// end-point".
    fn key(&self) -> &str {
        self.device_id.unwrap_or(self.client_name)
    }
}

/// What `available` was asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query {
    pub include_active: bool,
    pub app_sessions_only: bool,
    /// Pre-XenDesktop-7 behaviour: listing active sessions disconnects them.
    pub legacy_hazard: bool,
}

/// A successful reconnect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launched {
    pub session: SessionSnapshot,
    /// The fresh logon ticket (30 uppercase hex digits).
    pub ticket: String,
}

/// Sessions and tickets of the simulated store.
#[derive(Debug)]
pub struct Store {
    sessions: Vec<SessionSnapshot>,
    issued: Vec<String>,
    invalidated: Vec<String>,
    counter: u64,
    seed: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

/// SplitMix64's finaliser: a bijection on u64, so distinct inputs give distinct outputs.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Store {
    /// An empty store with a per-process random seed for ids and tickets.
    pub fn new() -> Store {
        Store {
            sessions: Vec::new(),
            issued: Vec::new(),
            invalidated: Vec::new(),
            counter: 0,
            seed: RandomState::new().hash_one(0x5e55_1011u64),
        }
    }

    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// A unique, random-looking session id.
    fn new_id(&mut self) -> String {
        let n = self.next();
        format!("{:016x}", mix(self.seed ^ n))
    }

    /// A unique, random-looking logon ticket: 30 uppercase hex digits (the first 16 are a
    /// bijection of the counter, so tickets never repeat).
    fn new_ticket(&mut self) -> String {
        let n = self.next();
        let hi = mix(self.seed.rotate_left(17) ^ n);
        let lo = mix(hi ^ self.seed);
        format!("{hi:016X}{:014X}", lo >> 8)
    }

    /// Add a session; returns its id.
    pub fn add(
        &mut self,
        user: &str,
        app: &str,
        kind: SessionKind,
        client: Endpoint<'_>,
        active: bool,
    ) -> String {
        let id = self.new_id();
        self.sessions.push(SessionSnapshot {
            id: id.clone(),
            user: user.to_string(),
            app: app.to_string(),
            kind,
            server_type: "win32".to_string(),
            publisher: "Farm1".to_string(),
            client_name: client.client_name.to_string(),
            device_id: client.device_id.map(str::to_string),
            active,
        });
        id
    }

    pub fn sessions(&self) -> &[SessionSnapshot] {
        &self.sessions
    }

    pub fn issued_tickets(&self) -> &[String] {
        &self.issued
    }

    pub fn invalidated_tickets(&self) -> &[String] {
        &self.invalidated
    }

    /// The user's sessions available to `client`: every disconnected one, plus (when asked)
    /// the active ones on other end-points; only application sessions when asked. With the
    /// legacy hazard, the active sessions listed become disconnected.
    pub fn available(
        &mut self,
        user: &str,
        client: Endpoint<'_>,
        query: Query,
    ) -> Vec<SessionSnapshot> {
        let mut listed = Vec::new();
        for s in self.sessions.iter_mut().filter(|s| s.user == user) {
            if query.app_sessions_only && s.kind != SessionKind::App {
                continue;
            }
            let elsewhere = s.endpoint() != client.key();
            if !s.active || (query.include_active && elsewhere) {
                if s.active && query.legacy_hazard {
                    s.active = false;
                }
                listed.push(s.clone());
            }
        }
        listed
    }

    fn invalidate(&mut self, tickets: &[String]) {
        for t in tickets {
            if !self.invalidated.contains(t) {
                self.invalidated.push(t.clone());
            }
        }
    }

    /// Disconnect the user's active sessions on `client` and invalidate `tickets`; returns how
    /// many sessions changed.
    pub fn disconnect(&mut self, user: &str, client: Endpoint<'_>, tickets: &[String]) -> usize {
        let mut n = 0;
        for s in self.sessions.iter_mut() {
            if s.user == user && s.active && s.endpoint() == client.key() {
                s.active = false;
                n += 1;
            }
        }
        self.invalidate(tickets);
        n
    }

    /// Log off (remove) the user's sessions on `client` and invalidate `tickets`; returns how
    /// many sessions were removed.
    pub fn logoff(&mut self, user: &str, client: Endpoint<'_>, tickets: &[String]) -> usize {
        let before = self.sessions.len();
        self.sessions
            .retain(|s| !(s.user == user && s.endpoint() == client.key()));
        self.invalidate(tickets);
        before - self.sessions.len()
    }

    /// Reconnect session `id` of `user` from the launching end-point (whose parameters may name
    /// none: then the session keeps its last one). `None`: no such session for this user.
    pub fn launch(
        &mut self,
        user: &str,
        id: &str,
        client_name: Option<&str>,
        device_id: Option<&str>,
    ) -> Option<Launched> {
        let pos = self
            .sessions
            .iter()
            .position(|s| s.id == id && s.user == user)?;
        let ticket = self.new_ticket();
        self.issued.push(ticket.clone());
        let s = self.sessions.get_mut(pos)?;
        if client_name.is_some() || device_id.is_some() {
            if let Some(name) = client_name {
                s.client_name = name.to_string();
            }
            s.device_id = device_id.map(str::to_string);
        }
        s.active = true;
        Some(Launched {
            session: s.clone(),
            ticket,
        })
    }
}

/// Keep one line of an ICA file on one line and out of section syntax.
fn ica_value(v: &str) -> String {
    v.chars()
        .filter(|c| !c.is_control() && *c != '[' && *c != ']' && *c != '=')
        .collect()
}

/// The ICA file of a reconnect: CRLF line ends, as StoreFront writes them.
pub fn ica_file(launched: &Launched) -> String {
    let s = &launched.session;
    let app = ica_value(&s.app);
    let client = ica_value(&s.client_name);
    let address = match s.kind {
        SessionKind::App => "10.0.0.21:1494",
        SessionKind::Desktop => "10.0.0.22:1494",
    };
    let user_hash = s.user.bytes().fold(0u64, |h, b| mix(h ^ u64::from(b)));
    let sharing = format!("-{:x}", user_hash & 0xffff_ffff);
    let lines = [
        "[Encoding]".to_string(),
        "InputEncoding=UTF8".to_string(),
        String::new(),
        "[WFClient]".to_string(),
        "Version=2".to_string(),
        "RemoveICAFile=yes".to_string(),
        String::new(),
        "[ApplicationServers]".to_string(),
        format!("{app}="),
        String::new(),
        format!("[{app}]"),
        format!("Address={address}"),
        format!("InitialProgram=#{app}"),
        format!("LogonTicket={}", launched.ticket),
        "LogonTicketType=CTXS1".to_string(),
        format!("ClientName={client}"),
        "TransportDriver=TCP/IP".to_string(),
        "WinStationDriver=ICA 3.0".to_string(),
        format!("Title={app}"),
        "DesiredColor=8".to_string(),
        "TWIMode=On".to_string(),
        format!("SessionsharingKey={sharing}"),
    ];
    let mut out = String::with_capacity(512);
    for line in lines {
        out.push_str(&line);
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests;
