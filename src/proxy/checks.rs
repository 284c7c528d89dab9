//! The header rules of a Sessions Service request, in the order the gateway applies them:
//! method (405), token (401), Accept (406), Content-Type (400), declared length (413).

use pingora::http::RequestHeader;

use super::error::GatewayError;
use crate::protocol::{citrix_auth, media};
use crate::routing::Operation;

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
        let ok = req
            .headers
            .get("content-type")
            .is_some_and(|v| media::content_type_matches(v.as_bytes(), body_type));
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
    fn scheme_is_case_sensitive() {
        let h = [("authorization", "citrixauth abc")];
        assert_eq!(reason(&req("POST", &h), None), "unauthorized");
    }
}
