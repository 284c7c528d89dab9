//! The header rules, in the order the gateway applies them: first what every request must meet
//! (an origin-form target, one valid `Host`), then those of a Sessions Service request: method
//! (405), token (401), Accept (406), Content-Type (400), declared length (413).

use pingora::http::RequestHeader;

use super::error::GatewayError;
use crate::protocol::{citrix_auth, media};
use crate::routing::Operation;

/// RFC 9112 §3.2 and §3.2.1: a request to the gateway names its target in origin form (it is no
/// forward proxy: an absolute-form target, or a `Host`, must never choose the upstream), and an
/// HTTP/1.1 request carries exactly one `Host`, an authority and nothing else. HTTP/2 names its
/// target in its pseudo-headers, whose authority stands for `Host`.
pub fn check_target(req: &RequestHeader) -> Result<(), GatewayError> {
    // HTTP/2 always names its target as :scheme, :authority and :path (an absolute URI here);
    // Pingora has already refused an :authority that disagrees with a Host header.
    if req.version == http::Version::HTTP_2 {
        if let Some(a) = req.uri.authority() {
            return match authority(a.as_str().as_bytes()) {
                true => Ok(()),
                false => Err(GatewayError::BadHost),
            };
        }
    }
    if req.uri.scheme().is_some() || req.uri.authority().is_some() {
        return Err(GatewayError::BadTarget);
    }
    let mut hosts = req.headers.get_all("host").into_iter();
    match (hosts.next(), hosts.next()) {
        (None, _) if req.version == http::Version::HTTP_10 => Ok(()),
        (Some(host), None) if authority(host.as_bytes()) => Ok(()),
        _ => Err(GatewayError::BadHost),
    }
}

/// `host[:port]`: a reg-name, IPv4 or bracketed IPv6 literal, and digits after a colon.
fn authority(value: &[u8]) -> bool {
    let ok = |b: &u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%:[]".contains(b);
    !value.is_empty() && value.len() <= 255 && value.iter().all(ok)
}

/// Check everything that can be decided from the request header alone.
pub fn check_header(
    req: &RequestHeader,
    operation: &Operation,
    declared_length: Option<usize>,
    max_body: usize,
) -> Result<(), GatewayError> {
    if req.method != http::Method::POST {
        return Err(GatewayError::MethodNotAllowed);
    }
    let authorization = req
        .headers
        .get_all("authorization")
        .into_iter()
        .map(|v| v.as_bytes());
    citrix_auth::token_from_headers(authorization).map_err(GatewayError::Unauthorized)?;
    if let Some(answer) = operation.response_media() {
        let accept = req
            .headers
            .get_all("accept")
            .into_iter()
            .map(|v| v.as_bytes());
        if !media::accepts(accept, answer) {
            return Err(GatewayError::NotAcceptable(answer));
        }
    }
    if let Some(body_type) = operation.request_media() {
        // Two Content-Type headers leave the body's type undecided: refused, not guessed.
        let mut types = req.headers.get_all("content-type").into_iter();
        let ok = match (types.next(), types.next()) {
            (Some(v), None) => media::content_type_matches(v.as_bytes(), body_type),
            _ => false,
        };
        if !ok {
            return Err(GatewayError::ContentType(body_type));
        }
    }
    if declared_length.is_some_and(|l| l > max_body) {
        return Err(GatewayError::BodyTooLarge(max_body));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, headers: &[(&str, &str)]) -> RequestHeader {
        let mut r =
            RequestHeader::build(method, b"/Citrix/Store/sessions/v1/available", None).unwrap();
        for (k, v) in headers {
            r.append_header(k.to_string(), *v).unwrap();
        }
        r
    }

    const GOOD: &[(&str, &str)] = &[
        ("authorization", "CitrixAuth abc"),
        ("accept", media::SESSION_STATE),
        ("content-type", media::SESSION_PARAMS),
    ];

    fn reason(r: &RequestHeader, len: Option<usize>) -> &'static str {
        match check_header(r, &Operation::ListSessions, len, 100) {
            Ok(()) => "ok",
            Err(e) => e.reason(),
        }
    }

    #[test]
    fn order_of_the_rules() {
        assert_eq!(reason(&req("POST", GOOD), Some(10)), "ok");
        // Everything wrong at once: the method is reported first.
        assert_eq!(
            reason(&req("GET", &[("accept", "text/html")]), Some(1000)),
            "method_not_allowed"
        );
        assert_eq!(
            reason(&req("POST", &[("accept", "text/html")]), Some(1000)),
            "unauthorized"
        );
        let no_accept = [("authorization", "CitrixAuth abc"), ("accept", "text/html")];
        assert_eq!(
            reason(&req("POST", &no_accept), Some(1000)),
            "not_acceptable"
        );
        let no_ct = [("authorization", "CitrixAuth abc")];
        assert_eq!(reason(&req("POST", &no_ct), Some(1000)), "content_type");
        assert_eq!(reason(&req("POST", GOOD), Some(101)), "body_too_large");
    }

    #[test]
    fn targets_and_hosts() {
        let build = |target: &str, hosts: &[&str]| {
            let mut r = RequestHeader::build("GET", b"/", None).unwrap();
            // As Pingora reads a request line: an absolute-form target keeps scheme and authority.
            r.set_uri(target.parse().unwrap());
            for h in hosts {
                r.append_header("host", *h).unwrap();
            }
            r
        };
        let cases: &[(&str, &[&str], &str)] = &[
            ("/Citrix/Store/x", &["gw.example.com"], "ok"),
            ("/Citrix/Store/x", &["gw.example.com:8443"], "ok"),
            ("/Citrix/Store/x", &["[::1]:8080"], "ok"),
            ("/Citrix/Store/x", &[], "bad_host"),
            ("/Citrix/Store/x", &["a", "b"], "bad_host"),
            ("/Citrix/Store/x", &["gw/Citrix"], "bad_host"),
            ("/Citrix/Store/x", &["user@gw"], "bad_host"),
            ("/Citrix/Store/x", &["gw?x"], "bad_host"),
            ("/Citrix/Store/x", &[""], "bad_host"),
            (
                "http://10.0.0.1/Citrix/Store/x",
                &["gw"],
                "bad_request_target",
            ),
        ];
        for (target, hosts, want) in cases {
            let got = match check_target(&build(target, hosts)) {
                Ok(()) => "ok",
                Err(e) => e.reason(),
            };
            assert_eq!(got, *want, "{target} {hosts:?}");
        }
    }

    #[test]
    fn two_content_types_are_refused() {
        let mut r = req("POST", GOOD);
        r.append_header("content-type", media::SESSION_PARAMS)
            .unwrap();
        assert_eq!(reason(&r, None), "content_type");
    }

    #[test]
    fn scheme_is_case_sensitive() {
        let h = [("authorization", "citrixauth abc")];
        assert_eq!(reason(&req("POST", &h), None), "unauthorized");
    }
}
