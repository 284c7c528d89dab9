use super::*;

fn ep(name: &str) -> Endpoint<'_> {
    Endpoint {
        client_name: name,
        device_id: None,
    }
}

fn seeded() -> (Store, String, String, String) {
    let mut st = Store::new();
    let np = st.add("alice", "Notepad", SessionKind::App, ep("LAPTOP-1"), false);
    let desk = st.add(
        "alice",
        "Desktop",
        SessionKind::Desktop,
        ep("DESKTOP-2"),
        true,
    );
    let xl = st.add("alice", "Excel", SessionKind::App, ep("LAPTOP-1"), true);
    st.add("bob", "Calculator", SessionKind::App, ep("B"), false);
    (st, np, desk, xl)
}

fn ids(v: &[SessionSnapshot]) -> Vec<&str> {
    v.iter().map(|s| s.id.as_str()).collect()
}

#[test]
fn ids_and_tickets_are_unique_and_shaped() {
    let mut st = Store::new();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..1000 {
        let id = st.new_id();
        assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(seen.insert(id));
        let t = st.new_ticket();
        assert!(
            t.len() == 30 && t.bytes().all(|b| b.is_ascii_hexdigit()),
            "{t}"
        );
        assert!(seen.insert(t));
    }
}

#[test]
fn available_lists_by_the_rules() {
    let (mut st, np, desk, xl) = seeded();
    let active = Query {
        include_active: true,
        ..Query::default()
    };
    let apps = Query {
        app_sessions_only: true,
        ..active
    };
    for (case, client, q, want) in [
        ("disconnected only", "NEW", Query::default(), vec![&np]),
        ("active too", "NEW", active, vec![&np, &desk, &xl]),
        // Active sessions on the asking client are not "available" to it.
        (
            "not the asker's active",
            "LAPTOP-1",
            active,
            vec![&np, &desk],
        ),
        ("apps only", "NEW", apps, vec![&np, &xl]),
    ] {
        assert_eq!(ids(&st.available("alice", ep(client), q)), want, "{case}");
    }
    // The device id overrides the client name.
    let dev = Endpoint {
        client_name: "LAPTOP-1",
        device_id: Some("d1"),
    };
    assert_eq!(st.available("alice", dev, apps).len(), 2);
    assert!(st.sessions().iter().filter(|s| s.active).count() == 2);
}

#[test]
fn legacy_hazard_disconnects_what_it_lists() {
    let (mut st, _, desk, _) = seeded();
    let q = Query {
        include_active: true,
        app_sessions_only: false,
        legacy_hazard: true,
    };
    let listed = st.available("alice", ep("LAPTOP-1"), q);
    assert_eq!(listed.len(), 2);
    let d = st.sessions().iter().find(|s| s.id == desk).cloned();
    assert_eq!(d.map(|d| d.active), Some(false));
    // Excel on the asking client stays connected.
    assert_eq!(st.sessions().iter().filter(|s| s.active).count(), 1);
}

#[test]
fn disconnect_logoff_and_launch() {
    let (mut st, np, _, xl) = seeded();
    assert_eq!(st.disconnect("alice", ep("LAPTOP-1"), &["T1".into()]), 1);
    assert_eq!(st.invalidated_tickets(), ["T1".to_string()]);
    assert!(st.sessions().iter().all(|s| s.id != xl || !s.active));
    assert!(st.launch("bob", &np, Some("X"), None).is_none());
    assert!(st.launch("alice", "nope", Some("X"), None).is_none());
    let l = st.launch("alice", &np, Some("NEW"), None);
    let Some(l) = l else { panic!("launch") };
    assert!(l.session.active);
    assert_eq!(l.session.client_name, "NEW");
    assert_eq!(st.issued_tickets(), std::slice::from_ref(&l.ticket));
    let ica = ica_file(&l);
    assert!(ica.contains(&format!("\r\nLogonTicket={}\r\n", l.ticket)));
    assert!(ica.contains("\r\nClientName=NEW\r\n"));
    assert!(ica.starts_with("[Encoding]\r\nInputEncoding=UTF8\r\n\r\n[WFClient]\r\n"));
    assert_eq!(st.logoff("alice", ep("LAPTOP-1"), &[]), 1);
    assert_eq!(st.sessions().len(), 3);
}
