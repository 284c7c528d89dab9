//! The simulator's control routes, so that a human (`sessiongate demo`) or a test in another
//! process can make it misbehave from outside:
//!
//! - `GET /__sim/fault`: the fault in force, as one line (`none`, `garbage` or a status).
//! - `POST /__sim/fault` with the body `none`, `garbage` or a status `400`-`599`: set it (the
//!   same faults as [`StoreFrontSim::set_fault`]; the answer is the new line).
//!
//! They live under `/__sim/`, a prefix no StoreFront store uses and that is never below a store
//! path, so a gateway in front never forwards a client's request there. Control requests are not
//! recorded as store traffic ([`StoreFrontSim::requests`] stays what the gateway sent).

use http::{header, Method, Response};

use super::{Fault, StoreFrontSim};

/// The prefix of every control route.
pub const PREFIX: &str = "/__sim/";
/// The fault switch.
pub const FAULT_PATH: &str = "/__sim/fault";
/// Longest control body read; a fault name or a status is a few bytes.
pub const MAX_CONTROL_BODY: usize = 64;

/// Is `path` (no query) a control route rather than a path of the store?
pub fn is_control(path: &str) -> bool {
    path.starts_with(PREFIX)
}

/// The fault a control body names: `Some(None)` for `none`, `None` when it names nothing.
/// Surrounding whitespace (a shell's newline) is ignored; case is not.
pub fn parse_fault(body: &[u8]) -> Option<Option<Fault>> {
    if body.len() > MAX_CONTROL_BODY {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?.trim();
    match text {
        "none" => Some(None),
        "garbage" => Some(Some(Fault::GarbageBody)),
        _ if text.len() == 3 && text.bytes().all(|b| b.is_ascii_digit()) => {
            let code: u16 = text.parse().ok()?;
            (400..=599)
                .contains(&code)
                .then_some(Some(Fault::Status(code)))
        }
        _ => None,
    }
}

/// The line describing `fault` (what `GET` answers and `POST` accepts, where it can).
pub fn describe(fault: Option<&Fault>) -> String {
    match fault {
        None => "none".to_string(),
        Some(Fault::GarbageBody) => "garbage".to_string(),
        Some(Fault::Status(code)) => code.to_string(),
        // Set only through the Rust API; shown, though it cannot be set over HTTP.
        Some(Fault::ContentType(ct)) => format!("content-type {ct}"),
    }
}

/// The answer of a control request. `body` is `None` when it was too large or unreadable.
pub fn handle(
    sim: &StoreFrontSim,
    method: &Method,
    path: &str,
    body: Option<&[u8]>,
) -> Response<Vec<u8>> {
    if path != FAULT_PATH {
        return super::http::text(404, "404 no such control route");
    }
    if *method == Method::GET || *method == Method::HEAD {
        return super::http::text(200, &describe(sim.fault().as_ref()));
    }
    if *method != Method::POST {
        let resp = super::http::text(405, "405 method not allowed");
        return super::http::with_header(resp, header::ALLOW, "GET, HEAD, POST");
    }
    match body.and_then(parse_fault) {
        Some(fault) => {
            let line = describe(fault.as_ref());
            sim.set_fault(fault);
            super::http::text(200, &line)
        }
        None => super::http::text(
            400,
            "400 the body must be `none`, `garbage` or a status from 400 to 599",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_bodies() {
        assert_eq!(parse_fault(b"none"), Some(None));
        assert_eq!(parse_fault(b"none\n"), Some(None));
        assert_eq!(parse_fault(b" garbage "), Some(Some(Fault::GarbageBody)));
        assert_eq!(parse_fault(b"500"), Some(Some(Fault::Status(500))));
        assert_eq!(parse_fault(b"503\r\n"), Some(Some(Fault::Status(503))));
        for bad in [
            &b""[..],
            b"None",
            b"200",
            b"399",
            b"600",
            b"5000",
            b"+50",
            b"\xff\xfe",
            b"500 500",
            &[b'5'; 65][..],
        ] {
            assert_eq!(parse_fault(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn descriptions_parse_back() {
        for fault in [None, Some(Fault::GarbageBody), Some(Fault::Status(502))] {
            assert_eq!(
                parse_fault(describe(fault.as_ref()).as_bytes()),
                Some(fault)
            );
        }
    }

    #[test]
    fn control_paths() {
        assert!(is_control("/__sim/fault"));
        assert!(is_control("/__sim/other"));
        assert!(!is_control("/__sim"));
        assert!(!is_control("/Citrix/Store/__sim/fault"));
    }
}
