use super::*;
use crate::protocol::xml::XmlError;

const NS: &str = ns::LAUNCH;
const ICA: &str = "[Encoding]\r\nInputEncoding=UTF8\r\n\r\n[WFClient]\r\nVersion=2\r\n\r\n[ApplicationServers]\r\nNotepad=\r\n\r\n[Notepad]\r\nAddress=10.0.0.21:1494\r\nInitialProgram=#Notepad & <co>\r\nLogonTicket=0123456789ABCDEF\r\nTitle=Notepad\r\n";

#[test]
fn ica_keeps_crlf_exactly() {
    let result = LaunchResult::Ica {
        ica: ICA.into(),
        logon_ticket: Some("0123456789ABCDEF".into()),
    };
    let out = write(&result);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(
        text.contains("[Encoding]\r\nInputEncoding=UTF8\r\n"),
        "{text}"
    );
    assert!(
        text.contains("InitialProgram=#Notepad &amp; &lt;co&gt;\r\n"),
        "{text}"
    );
    assert!(text.starts_with(&format!(
            r#"<?xml version="1.0" encoding="utf-8"?><launch xmlns="{NS}" status="success"><result type="ica"><ica>[Encoding]"#
        )));
    assert!(text.ends_with("</ica><logonTicket>0123456789ABCDEF</logonTicket></result></launch>"));
    assert_eq!(parse(&out), Ok(result));
    // `&#13;` (what a conforming writer may send) decodes to CR as well.
    let escaped = format!(
        r#"<launch xmlns="{NS}" status="success"><result type="ica"><ica>a&#13;
b&#xD;
</ica></result></launch>"#
    );
    assert_eq!(
        parse(escaped.as_bytes()),
        Ok(LaunchResult::Ica {
            ica: "a\r\nb\r\n".into(),
            logon_ticket: None
        })
    );
}

#[test]
fn fixture() {
    let body = include_bytes!("../../../tests/fixtures/storefront/launchdata-ica.xml");
    let LaunchResult::Ica { ica, logon_ticket } = parse(body).unwrap() else {
        panic!()
    };
    assert!(
        ica.starts_with("[Encoding]\r\nInputEncoding=UTF8\r\n"),
        "{ica:?}"
    );
    assert_eq!(
        logon_ticket.as_deref(),
        Some("85EB92973D2C3804F93A99AAEC232D")
    );
    assert!(ica.contains("LogonTicket=85EB92973D2C3804F93A99AAEC232D\r\n"));
}

#[test]
fn retry_and_error_round_trip_exactly() {
    let retry = LaunchResult::Retry {
        url: Some("https://x/launch?a=1&b=2".into()),
        after_seconds: 30,
        reason: "rebooting".into(),
    };
    let out = write(&retry);
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><launch xmlns="{NS}" status="retry"><result type="retry"><retry><url>https://x/launch?a=1&amp;b=2</url><after>30</after><reason>rebooting</reason></retry></result></launch>"#
        )
    );
    assert_eq!(parse(&out), Ok(retry));
    let retry = LaunchResult::Retry {
        url: None,
        after_seconds: 0,
        reason: "unknown".into(),
    };
    assert_eq!(parse(&write(&retry)), Ok(retry));
    let error = LaunchResult::Error {
        id: "AppRemoved".into(),
        text: None,
    };
    let out = write(&error);
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><launch xmlns="{NS}" status="failure"><result type="error"><error><id>AppRemoved</id></error></result></launch>"#
        )
    );
    assert_eq!(parse(&out), Ok(error));
    let error = LaunchResult::Error {
        id: "ResourceUnavailable".into(),
        text: Some("<gone> & \"away\"".into()),
    };
    assert_eq!(parse(&write(&error)), Ok(error));
}

#[test]
fn refusals() {
    let doc = |status: &str, result: &str| {
        format!(r#"<launch xmlns="{NS}" status="{status}">{result}</launch>"#)
    };
    assert_eq!(
        parse(
            doc(
                "success",
                r#"<result type="error"><error><id>x</id></error></result>"#
            )
            .as_bytes()
        ),
        Err(DocumentError::BadValue("launch/@status"))
    );
    assert_eq!(
        parse(doc("success", r#"<result type="ica"/>"#).as_bytes()),
        Err(DocumentError::Missing("result/ica"))
    );
    assert_eq!(
        parse(doc("success", "").as_bytes()),
        Err(DocumentError::Missing("result"))
    );
    assert_eq!(parse(doc("retry", r#"<result type="retry"><retry><after>soon</after><reason>x</reason></retry></result>"#).as_bytes()), Err(DocumentError::BadValue("retry/after")));
    assert_eq!(
        parse(doc("success", r#"<result type="html"/>"#).as_bytes()),
        Err(DocumentError::BadValue("result/@type"))
    );
    assert_eq!(
        parse(
            doc(
                "success",
                r#"<result type="ica"><ica>a</ica><ica>b</ica></result>"#
            )
            .as_bytes()
        ),
        Err(DocumentError::Duplicate("ica"))
    );
    assert_eq!(
        parse(b"<launch status=\"success\"/>"),
        Err(DocumentError::WrongRoot("launch"))
    );
    assert_eq!(
        parse(doc("success", r#"<result type="ica"><ica>&xxe;</ica></result>"#).as_bytes()),
        Err(DocumentError::Xml(XmlError::Forbidden("entity reference")))
    );
    assert_eq!(
        parse(doc("success", r#"<result type="ica"><ica><b/></ica></result>"#).as_bytes()),
        Err(DocumentError::Unexpected("ica"))
    );
}
