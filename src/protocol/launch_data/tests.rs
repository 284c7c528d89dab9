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
    let start = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><launch xmlns="{NS}" status="success"><result type="ica"><ica>[Encoding]"#
    );
    assert!(text.starts_with(&start), "{text}");
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
    let decl = r#"<?xml version="1.0" encoding="utf-8"?>"#;
    // (result, its exact document when the case pins it).
    let cases = [
        (
            LaunchResult::Retry {
                url: Some("https://x/launch?a=1&b=2".into()),
                after_seconds: 30,
                reason: "rebooting".into(),
            },
            Some(format!(
                r#"{decl}<launch xmlns="{NS}" status="retry"><result type="retry"><retry><url>https://x/launch?a=1&amp;b=2</url><after>30</after><reason>rebooting</reason></retry></result></launch>"#
            )),
        ),
        (
            LaunchResult::Retry {
                url: None,
                after_seconds: 0,
                reason: "unknown".into(),
            },
            None,
        ),
        (
            LaunchResult::Error {
                id: "AppRemoved".into(),
                text: None,
            },
            Some(format!(
                r#"{decl}<launch xmlns="{NS}" status="failure"><result type="error"><error><id>AppRemoved</id></error></result></launch>"#
            )),
        ),
        (
            LaunchResult::Error {
                id: "ResourceUnavailable".into(),
                text: Some("<gone> & \"away\"".into()),
            },
            None,
        ),
    ];
    for (result, exact) in cases {
        let out = write(&result);
        if let Some(exact) = exact {
            assert_eq!(String::from_utf8(out.clone()).unwrap(), exact, "{result:?}");
        }
        assert_eq!(parse(&out), Ok(result));
    }
}

#[test]
fn refusals() {
    let cases = [
        (
            "success",
            r#"<result type="error"><error><id>x</id></error></result>"#,
            DocumentError::BadValue("launch/@status"),
        ),
        (
            "success",
            r#"<result type="ica"/>"#,
            DocumentError::Missing("result/ica"),
        ),
        ("success", "", DocumentError::Missing("result")),
        (
            "retry",
            r#"<result type="retry"><retry><after>soon</after><reason>x</reason></retry></result>"#,
            DocumentError::BadValue("retry/after"),
        ),
        (
            "success",
            r#"<result type="html"/>"#,
            DocumentError::BadValue("result/@type"),
        ),
        (
            "success",
            r#"<result type="ica"><ica>a</ica><ica>b</ica></result>"#,
            DocumentError::Duplicate("ica"),
        ),
        (
            "success",
            r#"<result type="ica"><ica>&xxe;</ica></result>"#,
            DocumentError::Xml(XmlError::Forbidden("entity reference")),
        ),
        (
            "success",
            r#"<result type="ica"><ica><b/></ica></result>"#,
            DocumentError::Unexpected("ica"),
        ),
    ];
    for (status, result, want) in cases {
        let doc = format!(r#"<launch xmlns="{NS}" status="{status}">{result}</launch>"#);
        assert_eq!(parse(doc.as_bytes()), Err(want), "{doc}");
    }
    assert_eq!(
        parse(b"<launch status=\"success\"/>"),
        Err(DocumentError::WrongRoot("launch"))
    );
}
