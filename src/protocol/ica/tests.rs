use super::*;

fn launch() -> IcaLaunch<'static> {
    IcaLaunch {
        title: "Notepad",
        address: "192.168.182.10:1494",
        ticket: "50DFC592EDA89C8C83F860EACF4B41",
        ssl_relay_address: None,
        cgp_address: None,
        client_name: None,
    }
}

#[test]
fn golden_minimal() {
    assert_eq!(
        render(&launch()).unwrap(),
        "[WFClient]\r\nVersion=2\r\n\r\n\
         [ApplicationServers]\r\nNotepad=\r\n\r\n\
         [Notepad]\r\nAddress=192.168.182.10:1494\r\nInitialProgram=#Notepad\r\nTitle=Notepad\r\n\
         TransportDriver=TCP/IP\r\nWinStationDriver=ICA 3.0\r\n\
         LogonTicket=50DFC592EDA89C8C83F860EACF4B41\r\nLogonTicketType=CTXS1\r\n\
         ClearPassword=50DFC592EDA89C\r\nDomain=\\8C83F860EACF4B41\r\n"
    );
}

#[test]
fn golden_full() {
    let l = IcaLaunch {
        title: "Word 2007",
        ssl_relay_address: Some("ps45fp1.example.com:443"),
        cgp_address: Some("2598"),
        client_name: Some("WI_7IR5mS5__XBwkUuKL"),
        ..launch()
    };
    assert_eq!(
        render(&l).unwrap(),
        "[WFClient]\r\nVersion=2\r\nClientName=WI_7IR5mS5__XBwkUuKL\r\n\r\n\
         [ApplicationServers]\r\nWord 2007=\r\n\r\n\
         [Word 2007]\r\nAddress=192.168.182.10:1494\r\nInitialProgram=#Word 2007\r\nTitle=Word 2007\r\n\
         TransportDriver=TCP/IP\r\nWinStationDriver=ICA 3.0\r\n\
         LogonTicket=50DFC592EDA89C8C83F860EACF4B41\r\nLogonTicketType=CTXS1\r\n\
         ClearPassword=50DFC592EDA89C\r\nDomain=\\8C83F860EACF4B41\r\n\
         CGPAddress=*:2598\r\nSSLEnable=On\r\nSSLProxyHost=ps45fp1.example.com:443\r\n"
    );
    let l = IcaLaunch {
        cgp_address: Some("10.0.0.5:2598"),
        ..launch()
    };
    assert!(render(&l)
        .unwrap()
        .contains("\r\nCGPAddress=10.0.0.5:2598\r\n"));
}

#[test]
fn injection_is_refused() {
    for title in [
        "Note\r\npad",
        "Notepad\n[x]",
        "a]\r\nAddress=evil",
        "[x",
        "y]",
        "a=b",
        "a\0",
        ";x",
        "",
        " pad",
    ] {
        let l = IcaLaunch { title, ..launch() };
        assert_eq!(
            render(&l),
            Err(IcaError::InvalidValue("title")),
            "{title:?}"
        );
    }
    let bad_fields = [
        (
            IcaLaunch {
                address: "1.2.3.4:1494\r\nSSLEnable=Off",
                ..launch()
            },
            "address",
        ),
        (
            IcaLaunch {
                client_name: Some("c\r"),
                ..launch()
            },
            "client name",
        ),
        (
            IcaLaunch {
                ssl_relay_address: Some("h:443\nx=y"),
                ..launch()
            },
            "SSL relay address",
        ),
        (
            IcaLaunch {
                cgp_address: Some("2598\0"),
                ..launch()
            },
            "CGP address",
        ),
    ];
    for (l, field) in bad_fields {
        assert_eq!(render(&l), Err(IcaError::InvalidValue(field)), "{field}");
    }
}

#[test]
fn short_or_odd_tickets_are_refused() {
    for ticket in [
        "",
        "50DFC592EDA89C",
        "50DFC592EDA89C8C83F\r\nX",
        "50DFC592EDA89Céé",
        "50DFC592EDA89C8C 3F",
    ] {
        let l = IcaLaunch { ticket, ..launch() };
        assert_eq!(
            render(&l),
            Err(IcaError::InvalidValue("ticket")),
            "{ticket:?}"
        );
    }
    let l = IcaLaunch {
        ticket: "50DFC592EDA89C8",
        ..launch()
    };
    assert!(render(&l)
        .unwrap()
        .contains("\r\nClearPassword=50DFC592EDA89C\r\nDomain=\\8\r\n"));
}
