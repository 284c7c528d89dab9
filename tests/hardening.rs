//! Regressions of what an outside review got through the gateway, each through real sockets in
//! front of the simulated StoreFront store, which records every request that reaches it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::*;

const AVAILABLE: &str = "/Citrix/Store/sessions/v1/available";

fn good_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Authorization", ALICE),
        ("Accept", SESSION_STATE),
        ("Content-Type", SESSION_PARAMS),
    ]
}

/// A raw request with `Host: gw.test` unless `host` says otherwise (`None`: no Host at all).
fn raw(
    method: &str,
    target: &str,
    host: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> Vec<u8> {
    let mut r = format!("{method} {target} HTTP/1.1\r\n");
    if let Some(h) = host {
        r.push_str(&format!("Host: {h}\r\n"));
    }
    for (n, v) in headers {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    r.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    r.into_bytes()
}

/// Every case gets `status` with `reason`, and nothing reaches the server; a valid request
/// afterwards still works.
fn refused_and_not_forwarded(cases: &[(&str, Vec<u8>, u16, &str)]) {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "");
    for (case, request, status, reason) in cases {
        let r = send(gw.addr, request);
        assert_eq!(
            (r.status, r.reason()),
            (*status, *reason),
            "{case}: {}",
            r.text()
        );
    }
    assert_eq!(sim.sim.request_count(), 0, "something reached the server");
    let ok = send(
        gw.addr,
        &sessions_post(AVAILABLE, ALICE, SESSION_STATE, &params("C", "")),
    );
    assert_eq!(ok.status, 200, "the gateway still serves");
}

#[test]
fn route_spellings_a_windows_server_may_read_as_the_sessions_service_are_not_passed_through() {
    let body = params("C", "<includeActiveSessions>true</includeActiveSessions>");
    let spellings = [
        "%u0073essions/v1/available",
        "ſessions/v1/available",
        "%C5%BFessions/v1/available",
        "sessıons/v1/available",
        "sess%C4%B1ons/v1/available",
        "sessions%C0%AFv1%C0%AFavailable",
        "sessions%EF%BC%8Fv1%EF%BC%8Favailable",
        "sessions;x=1/v1/available",
        "sessions%20/v1/available",
        "%20sessions/v1/available",
        "sessions%09/v1/available",
        "resources/..%u002fsessions/v1/available",
        "resources/%C0%AE%C0%AE/sessions/v1/available",
        "ENDPOINTſ/v1",
    ];
    let cases: Vec<_> = spellings
        .iter()
        .map(|s| {
            let path = format!("/Citrix/Store/{s}");
            let req = raw("POST", &path, Some("gw.test"), &good_headers(), &body);
            (*s, req, 404, "no_route")
        })
        .collect();
    refused_and_not_forwarded(&cases);
}

#[test]
fn session_ids_are_a_closed_alphabet() {
    let launch = |id: &str| {
        let headers = [
            ("Authorization", ALICE),
            ("Accept", LAUNCH_DATA),
            ("Content-Type", LAUNCH_PARAMS),
        ];
        let path = format!("/Citrix/Store/sessions/v1/{id}/launch/ica");
        raw(
            "POST",
            &path,
            Some("gw.test"),
            &headers,
            &launch_params("C"),
        )
    };
    let cases = [
        (
            "encoded slashes",
            launch("..%2F..%2Fresources%2Fv2"),
            404,
            "session_not_found",
        ),
        ("encoded letter", launch("%7A"), 404, "session_not_found"),
        (
            "encoded backslash",
            launch("a%5Cb"),
            404,
            "session_not_found",
        ),
    ];
    refused_and_not_forwarded(&cases);
}

#[test]
fn requests_without_a_usable_host_or_target_are_400() {
    let body = params("C", "");
    let h = good_headers();
    let cases = [
        (
            "no Host",
            raw("POST", AVAILABLE, None, &h, &body),
            400,
            "bad_host",
        ),
        (
            "path in Host",
            raw("POST", AVAILABLE, Some("gw/evil"), &h, &body),
            400,
            "bad_host",
        ),
        // Pingora's own parser refuses these before any hook: its 400 has no reason header. The
        // gateway's own check (`checks::check_target`) stands behind it.
        (
            "userinfo in Host",
            raw("POST", AVAILABLE, Some("a@gw"), &h, &body),
            400,
            "",
        ),
        (
            "absolute form",
            raw(
                "POST",
                &format!("http://10.9.9.9{AVAILABLE}"),
                Some("gw.test"),
                &h,
                &body,
            ),
            400,
            "",
        ),
        (
            "absolute form, passthrough",
            raw(
                "GET",
                "http://10.9.9.9/Citrix/Store/resources/v2",
                Some("gw.test"),
                &[],
                "",
            ),
            400,
            "",
        ),
    ];
    refused_and_not_forwarded(&cases);
}

#[test]
fn header_rules_read_the_fields_as_rfcs_say() {
    let body = params("C", "");
    let with = |extra: &[(&'static str, &'static str)], drop: &str| {
        let mut h: Vec<_> = good_headers()
            .into_iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(drop))
            .collect();
        h.extend_from_slice(extra);
        raw("POST", AVAILABLE, Some("gw.test"), &h, &body)
    };
    let cases = [
        (
            "CitrixAuth then a tab",
            with(
                &[("Authorization", "CitrixAuth\tdemo-token-alice")],
                "authorization",
            ),
            401,
            "unauthorized",
        ),
        (
            "two Content-Types",
            with(&[("Content-Type", "text/xml")], ""),
            400,
            "content_type",
        ),
        (
            "a comma inside a quoted Accept parameter",
            with(
                &[(
                    "Accept",
                    "text/html; x=\"a, application/vnd.citrix.sessionstate+xml\"",
                )],
                "accept",
            ),
            406,
            "not_acceptable",
        ),
    ];
    refused_and_not_forwarded(&cases);
}

#[test]
fn headers_the_client_nominates_in_connection_are_not_forwarded() {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "");
    let mut headers = good_headers();
    headers.extend([
        ("Connection", "keep-alive, X-Hop, x-other"),
        ("X-Hop", "1"),
        ("X-Other", "2"),
        ("X-Kept", "3"),
    ]);
    let r = send(
        gw.addr,
        &raw(
            "POST",
            AVAILABLE,
            Some("gw.test"),
            &headers,
            &params("C", ""),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = sim.sim.requests();
    let names: Vec<&str> = seen[0].headers.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"x-kept"), "{names:?}");
    for hop in ["x-hop", "x-other", "connection"] {
        assert!(!names.contains(&hop), "{hop} was forwarded: {names:?}");
    }
}
