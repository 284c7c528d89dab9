//! The relay's side of NFuse: reading clients' requests, the safeguard's rewrite, refusals and
//! reading a broker's `ErrorId`.

use super::*;

const PROLOG: &str =
    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\r\n<!DOCTYPE NFuseProtocol SYSTEM \"NFuse.dtd\">\r\n";

fn doc(inner: &str) -> String {
    format!("{PROLOG}<NFuseProtocol version=\"5.0\">{inner}</NFuseProtocol>\r\n")
}

#[test]
fn reads_what_nmap_sends() {
    let apps = doc("<RequestAppData><Scope traverse=\"onelevel\" /><ServerType>all</ServerType><ClientType>ica30</ClientType><DesiredDetails>all</DesiredDetails><DesiredDetails>access-list</DesiredDetails></RequestAppData>");
    let r = parse_inbound(apps.as_bytes()).unwrap();
    assert_eq!(r.request, RequestType::AppData);
    assert_eq!(r.credentials, CredentialForm::Missing);
    assert!(r.access_list);
    let brute = doc("<RequestValidateCredentials><Credentials><UserName>U1</UserName><Password encoding=\"cleartext\">p1</Password><Domain type=\"NT\">DOM</Domain></Credentials></RequestValidateCredentials>");
    let r = parse_inbound(brute.as_bytes()).unwrap();
    assert_eq!(r.request, RequestType::ValidateCredentials);
    assert_eq!(
        r.credentials,
        CredentialForm::Password {
            user: "dom\\u1".into()
        }
    );
    let servers =
        doc("<RequestServerData><ServerType>all</ServerType><ClientType>all</ClientType></RequestServerData>");
    assert_eq!(
        parse_inbound(servers.as_bytes()).unwrap().request,
        RequestType::ServerData
    );
}

#[test]
fn classifies_credentials() {
    let id = doc("<RequestReconnectSessionData><Credentials><ID type=\"SAM\">CORP\\alice</ID></Credentials><SessionType>active</SessionType></RequestReconnectSessionData>");
    let r = parse_inbound(id.as_bytes()).unwrap();
    assert_eq!(r.credentials, CredentialForm::Identity);
    assert!(r.active_sessions);
    // An ID beside a password is still identity-only: a trusting broker may honour the ID alone.
    let both = doc("<RequestAddress><Credentials><UserName>a</UserName><Password>x</Password><ID type=\"SAM\">CORP\\b</ID></Credentials></RequestAddress>");
    assert_eq!(
        parse_inbound(both.as_bytes()).unwrap().credentials,
        CredentialForm::Identity
    );
    let anon = doc("<RequestAppData><Credentials><AnonymousUser/></Credentials></RequestAppData>");
    assert_eq!(
        parse_inbound(anon.as_bytes()).unwrap().credentials,
        CredentialForm::Anonymous
    );
    let twice =
        doc("<RequestAppData><Credentials/><Credentials><ID>x</ID></Credentials></RequestAppData>");
    assert!(parse_inbound(twice.as_bytes()).is_err());
}

#[test]
fn accepts_the_literal_doctype_variants_only() {
    let body = "<NFuseProtocol version=\"1.1\"><RequestCapabilities><Nil/></RequestCapabilities></NFuseProtocol>";
    for prolog in [
        "",
        "<!DOCTYPE NFuseProtocol>",
        "<!DOCTYPE NFuseProtocol SYSTEM 'NFuse.dtd'>",
        "<!DOCTYPE  NFuseProtocol\r\n SYSTEM \"NFuse.dtd\" >",
    ] {
        let r = parse_inbound(format!("{prolog}{body}").as_bytes());
        assert_eq!(r.unwrap().request, RequestType::Capabilities, "{prolog}");
    }
    for prolog in [
        "<!DOCTYPE NFuseProtocol SYSTEM \"http://evil.test/x.dtd\">",
        "<!DOCTYPE NFuseProtocol PUBLIC \"-//x\" \"NFuse.dtd\">",
        "<!DOCTYPE Other>",
        "<!DOCTYPE NFuseProtocol [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
    ] {
        let e = parse_inbound(format!("{prolog}{body}").as_bytes()).unwrap_err();
        assert!(e.is_forbidden_markup(), "{prolog}: {e}");
    }
    let entity = "<NFuseProtocol><RequestAppData><ClientName>&x;</ClientName></RequestAppData></NFuseProtocol>";
    assert!(parse_inbound(entity.as_bytes())
        .unwrap_err()
        .is_forbidden_markup());
}

#[test]
fn wants_exactly_one_request() {
    for body in [
        "<NFuseProtocol/>",
        "<NFuseProtocol><Other/></NFuseProtocol>",
        "<NFuseProtocol><RequestAppData/><RequestServerData/></NFuseProtocol>",
        "<Other><RequestAppData/></Other>",
        "<n:NFuseProtocol xmlns:n=\"urn:x\"><RequestAppData/></n:NFuseProtocol>",
        "<NFuseProtocol><RequestAppData>",
    ] {
        assert!(parse_inbound(body.as_bytes()).is_err(), "{body}");
    }
    let unknown = "<NFuseProtocol><RequestSomethingNew/></NFuseProtocol>";
    assert_eq!(
        parse_inbound(unknown.as_bytes()).unwrap().request,
        RequestType::Other
    );
}

#[test]
fn the_safeguard_names_disconnected_sessions_only() {
    let body = doc("<RequestReconnectSessionData><Credentials><ID type=\"SAM\">CORP\\alice</ID></Credentials><ClientName>c\u{e9}</ClientName><SessionType>active</SessionType><SessionType>disconnected</SessionType></RequestReconnectSessionData>");
    let latin1: Vec<u8> = body.chars().map(|c| c as u8).collect();
    let out = String::from_utf8(only_disconnected(&latin1).unwrap()).unwrap();
    assert!(
        out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{out}"
    );
    assert_eq!(out.matches("<SessionType>").count(), 1, "{out}");
    assert!(
        out.contains("<SessionType>disconnected</SessionType>"),
        "{out}"
    );
    assert!(out.contains("<ClientName>c\u{e9}</ClientName>"), "{out}");
    let again = parse_inbound(out.as_bytes()).unwrap();
    assert!(!again.active_sessions);
    assert_eq!(again.credentials, CredentialForm::Identity);
    let only_active = doc("<RequestReconnectSessionData><SessionType>active</SessionType></RequestReconnectSessionData>");
    let out = String::from_utf8(only_disconnected(only_active.as_bytes()).unwrap()).unwrap();
    assert!(
        out.contains("<SessionType>disconnected</SessionType>"),
        "{out}"
    );
}

#[test]
fn refusals_answer_the_matching_element() {
    let body = refusal(RequestType::ValidateCredentials, ErrorId::FailedCredentials);
    let text = String::from_utf8(body.clone()).unwrap();
    assert!(text.contains("<ResponseValidateCredentials><ErrorId>failed-credentials</ErrorId></ResponseValidateCredentials>"), "{text}");
    assert_eq!(error_id_of(&body), Some(ErrorId::FailedCredentials));
    let other = String::from_utf8(refusal(RequestType::Other, ErrorId::NotTrusted)).unwrap();
    assert!(other.contains("<Response><ErrorId>not-trusted</ErrorId></Response>"));
}

#[test]
fn reads_a_brokers_error_id_or_none() {
    let ok = doc("<ResponseValidateCredentials></ResponseValidateCredentials>");
    assert_eq!(error_id_of(ok.as_bytes()), None);
    let err = doc("<ResponseAddress><ErrorId>unspecified</ErrorId><BrowserError>0x0E</BrowserError></ResponseAddress>");
    assert_eq!(error_id_of(err.as_bytes()), Some(ErrorId::Unspecified));
    assert_eq!(error_id_of(b"garbage"), None);
}

#[test]
fn request_types_round_trip() {
    for t in RequestType::ALL {
        if t != RequestType::Other {
            let element = t.response_element().replacen("Response", "Request", 1);
            assert_eq!(RequestType::of_element(&element), t);
        }
    }
    assert_eq!(RequestType::of_element("Request"), RequestType::Other);
    assert_eq!(
        RequestType::of_element("requestappdata"),
        RequestType::Other
    );
}
