//! The simulated farm's state: sessions on IMA hosts, logon tickets, and the workspace-control
//! rules of the XML service (list for reconnection, disconnect, log off, address a session).
//! Plain data and logic, no I/O: the HTTP side lives in `http.rs`.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use super::FarmSessionSnapshot;

/// One session as the farm keeps it.
#[derive(Debug, Clone)]
struct Session {
    user: String,
    app: String,
    host_id: u32,
    session_id: u32,
    client_name: String,
    device_id: Option<String>,
    active: bool,
}

impl Session {
    fn snapshot(&self) -> FarmSessionSnapshot {
        FarmSessionSnapshot {
            user: self.user.clone(),
            app: self.app.clone(),
            host_id: self.host_id.to_string(),
            session_id: self.session_id.to_string(),
            client_name: self.client_name.clone(),
            device_id: self.device_id.clone(),
            active: self.active,
        }
    }

    /// Does the session belong to `user`? Windows account names do not depend on case.
    fn of(&self, user: &str) -> bool {
        self.user.eq_ignore_ascii_case(user)
    }

    /// Is the session (last) connected to the client the request names?
    fn on(&self, client: &Client<'_>) -> bool {
        match client.device_id {
            // [I] "listing disconnected sessions by device id" (NFuse.dtd 4.6): a device id,
            // when the request gives one, identifies the client instead of its name.
            Some(device) => self.device_id.as_deref() == Some(device),
            None => client
                .client_name
                .is_some_and(|name| self.client_name.eq_ignore_ascii_case(name)),
        }
    }
}

/// The client a request comes from, as its `ClientName` / `DeviceId` name it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Client<'a> {
    pub client_name: Option<&'a str>,
    pub device_id: Option<&'a str>,
}

/// A session listed by [`Farm::reconnect_data`] or found by [`Farm::address`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub app: String,
    pub host_id: u32,
    pub session_id: u32,
}

/// The answer to a `RequestAddress` for a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed {
    pub host_id: u32,
    /// The session was disconnected before this request.
    pub was_disconnected: bool,
}

/// Sessions and tickets of the simulated farm.
#[derive(Debug)]
pub struct Farm {
    first_host_id: u32,
    /// Published applications in the order first seen; the n-th runs on host `first_host_id + n`.
    apps: Vec<String>,
    /// (host id, last session id given out on it).
    last_session_ids: Vec<(u32, u32)>,
    sessions: Vec<Session>,
    tickets: Vec<String>,
    counter: u64,
    seed: u64,
}

/// SplitMix64's finaliser: a bijection on u64, so distinct inputs give distinct outputs.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Farm {
    /// An empty farm whose first server has IMA host id `first_host_id`.
    pub fn new(first_host_id: u32) -> Farm {
        Farm {
            first_host_id,
            apps: Vec::new(),
            last_session_ids: Vec::new(),
            sessions: Vec::new(),
            tickets: Vec::new(),
            counter: 0,
            seed: RandomState::new().hash_one(0xfa12_0001u64),
        }
    }

    /// The host serving `app`. [I] Each published application gets a server of its own, so a
    /// user's sessions are spread over hosts and their session ids repeat across hosts, as on a
    /// real farm where "SessionId alone is only unique per server".
    pub fn host_of(&mut self, app: &str) -> u32 {
        let index = match self.apps.iter().position(|a| a.eq_ignore_ascii_case(app)) {
            Some(i) => i,
            None => {
                self.apps.push(app.to_string());
                self.apps.len() - 1
            }
        };
        let offset = u32::try_from(index).unwrap_or(u32::MAX);
        self.first_host_id.saturating_add(offset)
    }

    /// The published applications, in the order first seen (each on a server of its own).
    pub fn apps(&self) -> &[String] {
        &self.apps
    }

    /// The next session id on `host` (1, 2, ... per host).
    fn next_session_id(&mut self, host: u32) -> u32 {
        if let Some((_, last)) = self.last_session_ids.iter_mut().find(|(h, _)| *h == host) {
            *last = last.saturating_add(1);
            return *last;
        }
        self.last_session_ids.push((host, 1));
        1
    }

    /// Add a session; returns (host id, session id).
    pub fn add(
        &mut self,
        user: &str,
        app: &str,
        client_name: &str,
        device_id: Option<&str>,
        active: bool,
    ) -> (u32, u32) {
        let host_id = self.host_of(app);
        let session_id = self.next_session_id(host_id);
        self.sessions.push(Session {
            user: user.to_string(),
            app: app.to_string(),
            host_id,
            session_id,
            client_name: client_name.to_string(),
            device_id: device_id.map(str::to_string),
            active,
        });
        (host_id, session_id)
    }

    pub fn snapshots(&self) -> Vec<FarmSessionSnapshot> {
        self.sessions.iter().map(Session::snapshot).collect()
    }

    pub fn tickets(&self) -> &[String] {
        &self.tickets
    }

    /// `RequestReconnectSessionData`: the user's disconnected sessions (from any client) when
    /// `disconnected` is asked, and when `active` is asked, the user's active sessions on other
    /// clients. With `hazard` (a pre-XenDesktop-7 farm) the active sessions listed are
    /// disconnected first: "this disconnects those sessions as an unavoidable side-effect".
    pub fn reconnect_data(
        &mut self,
        user: &str,
        client: &Client<'_>,
        active: bool,
        disconnected: bool,
        hazard: bool,
    ) -> Vec<Listed> {
        let mut listed = Vec::new();
        for s in self.sessions.iter_mut().filter(|s| s.of(user)) {
            let wanted = if s.active {
                active && !s.on(client)
            } else {
                disconnected
            };
            if !wanted {
                continue;
            }
            if s.active && hazard {
                s.active = false;
            }
            listed.push(Listed {
                app: s.app.clone(),
                host_id: s.host_id,
                session_id: s.session_id,
            });
        }
        listed
    }

    /// `RequestDisconnectUserSessions`: the user's sessions on `client` become disconnected;
    /// returns how many changed (the broker never tells).
    pub fn disconnect(&mut self, user: &str, client: &Client<'_>) -> usize {
        let mut n = 0;
        for s in self.sessions.iter_mut() {
            if s.of(user) && s.active && s.on(client) {
                s.active = false;
                n += 1;
            }
        }
        n
    }

    /// `RequestLogoffUserSessions`: the user's sessions on `client` end; returns how many.
    pub fn logoff(&mut self, user: &str, client: &Client<'_>) -> usize {
        let before = self.sessions.len();
        self.sessions.retain(|s| !(s.of(user) && s.on(client)));
        before - self.sessions.len()
    }

    /// `RequestAddress` with a `SessionName`: the session (InName, HostId, SessionId) of `user`
    /// is reconnected from `client` (when the request names one it becomes the session's
    /// client). `None`: no such session for this user.
    pub fn address(
        &mut self,
        user: &str,
        app: &str,
        host_id: u32,
        session_id: u32,
        client: &Client<'_>,
    ) -> Option<Addressed> {
        let s = self.sessions.iter_mut().find(|s| {
            s.of(user)
                && s.host_id == host_id
                && s.session_id == session_id
                && s.app.eq_ignore_ascii_case(app)
        })?;
        let was_disconnected = !s.active;
        if client.client_name.is_some() || client.device_id.is_some() {
            if let Some(name) = client.client_name {
                s.client_name = name.to_string();
            }
            s.device_id = client.device_id.map(str::to_string);
        }
        s.active = true;
        Some(Addressed {
            host_id: s.host_id,
            was_disconnected,
        })
    }

    /// A new logon ticket (30 upper-case hex digits, as in the captures), recorded.
    pub fn issue_ticket(&mut self) -> String {
        self.counter += 1;
        let hi = mix(self.seed.rotate_left(23) ^ self.counter);
        let lo = mix(hi ^ self.seed);
        // The first 16 digits are a bijection of the counter: tickets never repeat.
        let ticket = format!("{hi:016X}{:014X}", lo >> 8);
        self.tickets.push(ticket.clone());
        ticket
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn named(name: &str) -> Client<'_> {
        Client {
            client_name: Some(name),
            device_id: None,
        }
    }

    #[test]
    fn hosts_and_session_ids() {
        let mut f = Farm::new(23363);
        assert_eq!(f.add("D\\a", "Notepad", "c", None, false), (23363, 1));
        assert_eq!(f.add("D\\a", "Excel", "c", None, false), (23364, 1));
        assert_eq!(f.add("D\\b", "notepad", "c", None, true), (23363, 2));
    }

    #[test]
    fn listing_and_hazard() {
        let mut f = Farm::new(10);
        f.add("D\\a", "Notepad", "L", None, false);
        f.add("D\\a", "Excel", "D", None, true);
        f.add("D\\a", "Word", "L", None, true);
        f.add("D\\b", "Calc", "B", None, false);
        assert_eq!(
            f.reconnect_data("d\\A", &named("L"), false, true, true)
                .len(),
            1
        );
        let listed = f.reconnect_data("D\\a", &named("L"), true, true, false);
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].app, "Excel");
        assert_eq!(f.snapshots().iter().filter(|s| s.active).count(), 2);
        f.reconnect_data("D\\a", &named("L"), true, false, true);
        // Excel (elsewhere) was disconnected by the listing; Word (on L) was not listed.
        let active: Vec<_> = f.snapshots().into_iter().filter(|s| s.active).collect();
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].app, "Word");
    }

    #[test]
    fn device_id_identifies_the_client() {
        let mut f = Farm::new(10);
        f.add("D\\a", "Notepad", "L", Some("dev-1"), true);
        let dev = Client {
            client_name: Some("other"),
            device_id: Some("dev-1"),
        };
        assert!(f.reconnect_data("D\\a", &dev, true, true, false).is_empty());
        assert_eq!(f.disconnect("D\\a", &named("x")), 0);
        assert_eq!(f.disconnect("D\\a", &dev), 1);
        assert_eq!(f.logoff("D\\a", &dev), 1);
        assert!(f.snapshots().is_empty());
    }

    #[test]
    fn address_reconnects_and_tickets_are_shaped() {
        let mut f = Farm::new(10);
        let (h, s) = f.add("D\\a", "Notepad", "L", None, false);
        assert_eq!(f.address("D\\b", "Notepad", h, s, &named("N")), None);
        assert_eq!(f.address("D\\a", "Excel", h, s, &named("N")), None);
        let a = f.address("D\\a", "Notepad", h, s, &named("N")).unwrap();
        assert!(a.was_disconnected);
        let snap = &f.snapshots()[0];
        assert!(snap.active);
        assert_eq!(snap.client_name, "N");
        let t1 = f.issue_ticket();
        let t2 = f.issue_ticket();
        assert_ne!(t1, t2);
        assert!(
            t1.len() == 30
                && t1
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        );
        assert_eq!(f.tickets(), [t1, t2]);
    }
}
