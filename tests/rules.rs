//! The Sessions Service rules the gateway enforces itself (405, 401, 406, 400, 413), in order,
//! over real sockets, and proof that nothing reached the StoreFront server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::*;

const AVAILABLE: &str = "/Citrix/Store/sessions/v1/available";

fn setup() -> (Sim, Gateway) {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "");
    (sim, gw)
}

/// The regex S-PSMOD, a Citrix-written client, applies to the challenge.
fn challenge_fields(h: &str) -> [String; 5] {
    let rest = h.strip_prefix("CitrixAuth realm=\"").expect("realm first");
    let (realm, rest) = rest
        .split_once("\", reqtokentemplate=\"")
        .expect("reqtokentemplate");
    let (tpl, rest) = rest.split_once("\", reason=\"").expect("reason");
    let (reason, rest) = rest.split_once("\", locations=\"").expect("locations");
    let (loc, rest) = rest.split_once("\", serviceroot-hint=\"").expect("hint");
    let hint = rest
        .strip_suffix('"')
        .expect("closing quote, nothing after");
    [realm, tpl, reason, loc, hint].map(String::from)
}

#[test]
fn non_post_is_405_with_allow() {
    let (sim, gw) = setup();
    for method in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let r = send(
            gw.addr,
            &request(method, AVAILABLE, &[("Authorization", ALICE)], ""),
        );
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("POST"));
        assert_eq!(r.reason(), "method_not_allowed");
        assert!(r.text().contains("POST"));
    }
    let r = send(
        gw.addr,
        &request("HEAD", "/Citrix/Store/sessions/v1/logoff/", &[], ""),
    );
    assert_eq!(r.status, 405);
    assert_eq!(sim.sim.request_count(), 0);
}

#[test]
fn missing_or_bad_token_is_401_with_challenge() {
    let (sim, gw) = setup();
    let body = params("C1", "");
    let cases: &[(Option<&str>, &str)] = &[
        (None, "notoken"),
        (Some(""), "notoken"),
        (Some("Bearer abc"), "notoken"),
        (Some("citrixauth abc"), "notoken"),
        (Some("CitrixAuth"), "notoken"),
        (Some("CitrixAuth    "), "notoken"),
        (Some("CitrixAuth ab\u{e9}"), "invalidtoken"),
    ];
    for (auth, expected_reason) in cases {
        let mut headers = vec![("Accept", SESSION_STATE), ("Content-Type", SESSION_PARAMS)];
        if let Some(a) = auth {
            headers.push(("Authorization", a));
        }
        let r = send(gw.addr, &request("POST", AVAILABLE, &headers, &body));
        assert_eq!(r.status, 401, "{auth:?}");
        assert_eq!(r.reason(), "unauthorized");
        let challenges = r.headers_named("www-authenticate");
        assert_eq!(challenges.len(), 1);
        let [realm, tpl, why, loc, hint] = challenge_fields(challenges[0]);
        assert_eq!(realm, "store");
        assert_eq!(tpl, "");
        assert_eq!(why, *expected_reason, "{auth:?}");
        assert_eq!(loc, "https://ws.example.com/Citrix/StoreAuth/auth/v1/token");
        assert_eq!(hint, "https://ws.example.com/Citrix/Store/resources/v2");
        assert!(r.keeps_alive(), "body was read: connection stays open");
    }
    assert_eq!(sim.sim.request_count(), 0);
}

#[test]
fn challenge_comes_from_the_store_config() {
    let sim = Sim::demo();
    let extra = "    auth:\n      realm: 6b78ab94-a709-4e3a-8b9b-a49ca317c70c\n      token_services: [\"https://a.example/t1\", \"https://a.example/t2\"]\n      serviceroot_hint: https://a.example/hint\n";
    let gw = Gateway::start(sim.addr, extra);
    let r = send(
        gw.addr,
        &request(
            "POST",
            AVAILABLE,
            &[("Content-Type", SESSION_PARAMS)],
            &params("C", ""),
        ),
    );
    let [realm, _, _, loc, hint] = challenge_fields(r.header("www-authenticate").unwrap());
    assert_eq!(realm, "6b78ab94-a709-4e3a-8b9b-a49ca317c70c");
    assert_eq!(loc, "https://a.example/t1|https://a.example/t2");
    assert_eq!(hint, "https://a.example/hint");
}

#[test]
fn accept_negotiation() {
    let (sim, gw) = setup();
    let ok: &[(&str, &str)] = &[
        (AVAILABLE, "*/*"),
        (AVAILABLE, "application/*"),
        (AVAILABLE, "APPLICATION/VND.CITRIX.SESSIONSTATE+XML"),
        (
            AVAILABLE,
            "text/html, application/vnd.citrix.sessionstate+xml; charset=utf-8; q=0.5",
        ),
        ("/Citrix/Store/sessions/v1/disconnect", SESSION_RESULTS),
    ];
    for (path, accept) in ok {
        let r = send(
            gw.addr,
            &sessions_post(path, ALICE, accept, &params("C", "")),
        );
        assert_eq!(r.status, 200, "{accept}: {}", r.text());
    }
    let refused: &[(&str, &str)] = &[
        (AVAILABLE, "text/html"),
        (AVAILABLE, "application/xml"),
        (AVAILABLE, SESSION_RESULTS),
        (AVAILABLE, "application/vnd.citrix.sessionstate+xml;q=0"),
        (
            AVAILABLE,
            "*/*, application/vnd.citrix.sessionstate+xml;q=0",
        ),
        ("/Citrix/Store/sessions/v1/logoff", SESSION_STATE),
    ];
    let before = sim.sim.request_count();
    for (path, accept) in refused {
        let r = send(
            gw.addr,
            &sessions_post(path, ALICE, accept, &params("C", "")),
        );
        assert_eq!(r.status, 406, "{accept}");
        assert_eq!(r.reason(), "not_acceptable");
    }
    // No Accept at all means */*.
    let r = send(
        gw.addr,
        &request(
            "POST",
            AVAILABLE,
            &[("Authorization", ALICE), ("Content-Type", SESSION_PARAMS)],
            &params("C", ""),
        ),
    );
    assert_eq!(r.status, 200);
    assert_eq!(sim.sim.request_count(), before + 1);
}

#[test]
fn content_type_and_body_rules() {
    let (sim, gw) = setup();
    let post = |ct: Option<&str>, body: &str| {
        let mut h = vec![("Authorization", ALICE), ("Accept", SESSION_STATE)];
        if let Some(ct) = ct {
            h.push(("Content-Type", ct));
        }
        send(gw.addr, &request("POST", AVAILABLE, &h, body))
    };
    let good = params("C", "");
    for (ct, body, status, why) in [
        (None, good.as_str(), 400, "content_type"),
        (Some("application/xml"), good.as_str(), 400, "content_type"),
        (Some(LAUNCH_PARAMS), good.as_str(), 400, "content_type"),
        (Some(SESSION_PARAMS), "", 400, "body_missing"),
        (
            Some(SESSION_PARAMS),
            "<sessionparams",
            400,
            "body_malformed",
        ),
        (
            Some(SESSION_PARAMS),
            "<sessionparams xmlns=\"urn:other\"><clientName>C</clientName></sessionparams>",
            400,
            "body_invalid",
        ),
        (Some(SESSION_PARAMS), &params("", ""), 400, "body_invalid"),
        (
            Some(SESSION_PARAMS),
            &params("C", "<includeActiveSessions>yes</includeActiveSessions>"),
            400,
            "body_invalid",
        ),
        (
            Some(SESSION_PARAMS),
            &params("C", "<tickets><ticket>T</ticket></tickets>"),
            400,
            "body_invalid",
        ),
    ] {
        let r = post(ct, body);
        assert_eq!(r.status, status, "{ct:?} {body}");
        assert_eq!(r.reason(), why, "{ct:?} {body}");
    }
    // Parameters such as charset are allowed.
    assert_eq!(
        post(
            Some("application/vnd.citrix.sessionparams+xml; charset=utf-8"),
            &good
        )
        .status,
        200
    );
    assert_eq!(sim.sim.request_count(), 1);
}

#[test]
fn xxe_and_markup_are_refused() {
    let (sim, gw) = setup();
    let xxe = "<?xml version=\"1.0\"?><!DOCTYPE sessionparams [<!ENTITY % xxe SYSTEM \"http://127.0.0.1:1/x\"> %xxe; ]><sessionparams xmlns=\"http://citrix.com/delivery-services/1-0/sessionparams\"><clientName>C</clientName></sessionparams>";
    let entity = params("&ext;", "");
    let pi = format!(
        "<?xml version=\"1.0\"?><?evil x?>{}",
        params("C", "").replace("<?xml version=\"1.0\"?>", "")
    );
    for (case, body) in [
        ("external parameter entity in a DTD", xxe),
        ("undeclared entity reference", entity.as_str()),
        ("processing instruction", pi.as_str()),
    ] {
        let r = send(
            gw.addr,
            &sessions_post(AVAILABLE, ALICE, SESSION_STATE, body),
        );
        assert_eq!(r.status, 400, "{case}: {body}");
        assert_eq!(r.reason(), "body_forbidden_markup", "{case}: {body}");
    }
    assert_eq!(sim.sim.request_count(), 0);
}

#[test]
fn oversize_is_413_by_length_and_by_count() {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "    max_body_bytes: 512\n");
    let big = params(&"A".repeat(600), "");
    let r = send(
        gw.addr,
        &sessions_post(AVAILABLE, ALICE, SESSION_STATE, &big),
    );
    assert_eq!(r.status, 413);
    assert_eq!(r.reason(), "body_too_large");
    // Chunked: no length up front, refused while counting.
    let mut conn = Conn::open(gw.addr);
    let mut req = format!(
        "POST {AVAILABLE} HTTP/1.1\r\nHost: t\r\nAuthorization: {ALICE}\r\nContent-Type: {SESSION_PARAMS}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    for _ in 0..3 {
        req.push_str(&format!("100\r\n{}\r\n", "B".repeat(256)));
    }
    req.push_str("0\r\n\r\n");
    let r = conn.roundtrip(req.as_bytes());
    assert_eq!(r.status, 413);
    assert_eq!(sim.sim.request_count(), 0);
}

#[test]
fn rules_apply_in_order() {
    let (_sim, gw) = setup();
    let long = "x".repeat(20_000);
    let bad_accept_and_type = [("Accept", "text/html"), ("Content-Type", "text/plain")];
    // Each case breaks every rule from its own on: the first broken rule decides.
    for (case, req, status) in [
        (
            "wrong method, no token, bad Accept, bad Content-Type",
            request("GET", AVAILABLE, &bad_accept_and_type, ""),
            405,
        ),
        (
            "no token, bad Accept, bad Content-Type",
            request("POST", AVAILABLE, &bad_accept_and_type, "x"),
            401,
        ),
        (
            "bad Accept, bad Content-Type",
            request(
                "POST",
                AVAILABLE,
                &[
                    ("Authorization", ALICE),
                    ("Accept", "text/html"),
                    ("Content-Type", "text/plain"),
                ],
                "x",
            ),
            406,
        ),
        (
            "bad Content-Type, too long",
            request(
                "POST",
                AVAILABLE,
                &[("Authorization", ALICE), ("Content-Type", "text/plain")],
                &long,
            ),
            400,
        ),
        (
            "too long",
            request(
                "POST",
                AVAILABLE,
                &[("Authorization", ALICE), ("Content-Type", SESSION_PARAMS)],
                &long,
            ),
            413,
        ),
    ] {
        assert_eq!(send(gw.addr, &req).status, status, "{case}");
    }
}

#[test]
fn paths_under_no_store_are_404() {
    let (sim, gw) = setup();
    for path in [
        "/",
        "/Citrix/StoreWeb/",
        "/Citrix/Store/../Other",
        "/other/sessions/v1/available",
    ] {
        let r = send(
            gw.addr,
            &request("POST", path, &[("Authorization", ALICE)], "x"),
        );
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.reason(), "no_route");
    }
    let bad_id = sessions_post(
        "/Citrix/Store/sessions/v1/a%zz/launch/ica",
        ALICE,
        LAUNCH_DATA,
        "",
    );
    assert_eq!(send(gw.addr, &bad_id).status, 404);
    assert_eq!(sim.sim.request_count(), 0);
}

#[test]
fn rejection_keeps_the_connection_when_the_body_was_read() {
    let (_sim, gw) = setup();
    let mut conn = Conn::open(gw.addr);
    let r = conn.roundtrip(&sessions_post(AVAILABLE, ALICE, SESSION_STATE, "<nope/>"));
    assert_eq!(r.status, 400);
    assert!(r.keeps_alive());
    let r = conn.roundtrip(&sessions_post(
        AVAILABLE,
        ALICE,
        SESSION_STATE,
        &params("C", ""),
    ));
    assert_eq!(r.status, 200, "second request on the same connection");
}

#[test]
fn spellings_a_server_might_read_as_a_sessions_route_never_pass_through() {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "    active_sessions: reject\n");
    let body = params("C", "<includeActiveSessions>true</includeActiveSessions>");
    for path in [
        "/Citrix/Store/sessions/v1/%61vailable",
        "/Citrix/Store/%73essions/v1/available",
        "/Citrix/Store//sessions/v1/available",
        "/Citrix/Store/sessions/v1/available.",
        "/Citrix/Store/sessions./v1/available",
        "/Citrix/Store/sessions/v1//available",
        "/Citrix/Store/sessions/v2/available",
        "/Citrix/Store/session/v1/available/extra",
    ] {
        let r = send(gw.addr, &sessions_post(path, ALICE, SESSION_STATE, &body));
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.reason(), "no_route", "{path}");
    }
    let r = send(
        gw.addr,
        &request("POST", "/Citrix/Store/endpoints/v1", &[], "x"),
    );
    assert_eq!(r.status, 404);
    assert_eq!(sim.sim.request_count(), 0, "nothing reached the server");
}

#[test]
fn head_of_the_endpoints_document_has_the_rewritten_length() {
    let (_sim, gw) = setup();
    let full = send(gw.addr, &get("/Citrix/Store/endpoints/v1"));
    let head = send(
        gw.addr,
        b"HEAD /Citrix/Store/endpoints/v1 HTTP/1.1\r\nHost: gw.test\r\n\r\n",
    );
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), full.header("content-length"));
}
