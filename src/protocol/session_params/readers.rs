//! The two readers of [`parse`](super::parse) agree: the scanner reads the bodies clients send,
//! with the `Cursor`'s result, and every other body, refused or not, is answered by the `Cursor`.

use super::*;

const NS: &str = ns::SESSION_PARAMS;

fn each(
    body: &str,
    tickets: bool,
) -> (
    Option<Result<SessionParams, ParamsError>>,
    Result<SessionParams, ParamsError>,
) {
    parse_each(body.as_bytes(), tickets, &Limits::default())
}

#[test]
fn the_bodies_clients_send_are_read_by_the_scanner_with_the_cursors_result() {
    let fixtures: [(&[u8], bool); 3] = [
        (
            include_bytes!("../../../tests/fixtures/storefront/sessionparams-available.xml"),
            false,
        ),
        (
            include_bytes!("../../../tests/fixtures/storefront/sessionparams-disconnect.xml"),
            true,
        ),
        (
            include_bytes!("../../../tests/fixtures/storefront/sessionparams-logoff.xml"),
            true,
        ),
    ];
    let camel = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-16\"?>\r\n<sessionParams xmlns=\"{NS}\">\
         <clientName>  A&amp;B </clientName><appSessionsOnly>false</appSessionsOnly>\
         <extension xmlns=\"urn:vendor\"><x/></extension><unknown>1</unknown></sessionParams>"
    );
    for (body, tickets) in fixtures.into_iter().chain([(camel.as_bytes(), false)]) {
        let (fast, slow) = parse_each(body, tickets, &Limits::default());
        let slow = slow.unwrap();
        assert_eq!(
            fast,
            Some(Ok(slow.clone())),
            "{}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(parse(body, tickets, &Limits::default()), Ok(slow));
    }
}

#[test]
fn bodies_outside_the_subset_are_read_by_the_cursor() {
    for body in [
        format!(
            "<sessionparams xmlns=\"{NS}\"><!-- c --><clientName>W</clientName></sessionparams>"
        ),
        format!(
            "<sessionparams xmlns=\"{NS}\"><clientName><![CDATA[W]]></clientName></sessionparams>"
        ),
        format!(
            "<p:sessionparams xmlns:p=\"{NS}\"><p:clientName>W</p:clientName></p:sessionparams>"
        ),
    ] {
        let (fast, slow) = each(&body, false);
        assert!(!matches!(fast, Some(Ok(_))), "{body}");
        assert_eq!(slow.as_ref().map(|p| p.client_name.as_str()), Ok("W"));
        assert_eq!(parse(body.as_bytes(), false, &Limits::default()), slow);
    }
}

#[test]
fn every_refusal_is_the_cursors() {
    for (body, tickets) in [
        (format!("<sessionparams xmlns=\"{NS}\"><deviceId>d</deviceId></sessionparams>"), false),
        (format!("<sessionparams xmlns=\"{NS}\"><clientName>a\u{1}</clientName></sessionparams>"), false),
        (format!("<sessionparams xmlns=\"{NS}\"><clientName>a</clientName><tickets/></sessionparams>"), false),
        (format!("<sessionparams xmlns=\"{NS}\"><clientName>a</clientName>x</sessionparams>"), true),
        (format!("<sessionparams xmlns=\"{NS}\"><clientName>a</clientName>"), true),
        (format!("<!DOCTYPE x><sessionparams xmlns=\"{NS}\"/>"), true),
        ("<sessionparams><clientName>a</clientName></sessionparams>".to_string(), true),
    ] {
        let (fast, slow) = each(&body, tickets);
        let refusal = slow.expect_err(&body);
        assert!(!matches!(fast, Some(Ok(_))), "{body}");
        assert_eq!(parse(body.as_bytes(), tickets, &Limits::default()), Err(refusal));
    }
}
