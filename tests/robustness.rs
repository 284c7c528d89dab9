//! Nothing on network input panics: every parser and rewriter of `protocol/` is fed mutated
//! versions of real documents (bytes flipped, inserted, removed, truncated) from a fixed-seed
//! generator, so a failure reproduces. A cheap stand-in for fuzzing that runs with the suite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use sessiongate::protocol::citrix_auth::{parse_authorization, Challenge};
use sessiongate::protocol::media;
use sessiongate::protocol::session_params::{self, Limits};
use sessiongate::protocol::url::UrlMap;
use sessiongate::protocol::{
    endpoints, launch_data, launch_params, session_results, session_state,
};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[&[u8]] = &[
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#xD800;",
    b"&xxe;",
    b"<!DOCTYPE a [<!ENTITY x 'y'>]>",
    b"<?pi?>",
    b"<![CDATA[x]]>",
    b"<!-- c -->",
    b"\0",
    b"\r\n",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"xmlns=\"\"",
    b"q1:",
    b"\"",
    b"</sessionparams>",
    b"<clientName>",
    b"<ticket>",
    b"<session id=\"a\">",
    b"<url>",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(5) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                out.splice(at..at, piece.iter().copied());
            }
            2 if !out.is_empty() => {
                let end = (at + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 => out.truncate(at),
            _ => {
                let b = rng.next() as u8;
                out.insert(at.min(out.len()), b);
            }
        }
    }
    out
}

fn seeds() -> Vec<Vec<u8>> {
    let state = session_state::write(&session_state::SessionState {
        enumeration: session_state::Enumeration::Full,
        sessions: vec![session_state::Session {
            id: "zyxw9876".into(),
            server_type: "win32".into(),
            launch_url: "http://10.0.0.11/Citrix/Store/session/v1/zyxw9876/launch/ica".into(),
            initial_app: Some("MSPaint".into()),
            initial_app_resource_aggregated: Some(false),
            initial_app_resource_id: Some("XA1.MSPaint".into()),
            publisher_name: Some("Farm1".into()),
        }],
    });
    vec![
        br#"<?xml version="1.0"?><sessionparams xmlns="http://citrix.com/delivery-services/1-0/sessionparams"><clientName>x</clientName><deviceId>d</deviceId><includeActiveSessions>true</includeActiveSessions><tickets><ticket>85EB</ticket></tickets></sessionparams>"#.to_vec(),
        br#"<q1:launchparams xmlns:q1="http://citrix.com/delivery-services/1-0/launchparams"><q1:clientName>c</q1:clientName><q1:display>seamless</q1:display></q1:launchparams>"#.to_vec(),
        state,
        session_results::write(session_results::ResultStatus::Success),
        launch_data::write(&launch_data::LaunchResult::Ica {
            ica: "[Encoding]\r\nInputEncoding=UTF8\r\n".into(),
            logon_ticket: Some("T".into()),
        }),
        endpoints::write(&[endpoints::Endpoint {
            id: "ListSessions".into(),
            url: "http://10.0.0.11/Citrix/Store/sessions/v1/available".into(),
            capabilities: vec!["listSessions".into()],
        }]),
    ]
}

#[test]
fn mutated_documents_never_panic() {
    let mut rng = Rng(0x5e55_1095_a7e0_0001);
    let map = UrlMap::new(
        &["10.0.0.11:80".into()],
        "/Citrix/Store",
        "https://w.example/Citrix/Store",
    )
    .unwrap();
    let seeds = seeds();
    let mut parsed_ok = 0usize;
    for round in 0..3000 {
        let seed = &seeds[round % seeds.len()];
        let input = mutate(&mut rng, seed);
        parsed_ok +=
            usize::from(session_params::parse(&input, round % 2 == 0, &Limits::default()).is_ok());
        let _ = launch_params::parse(&input).map(|p| p.to_xml());
        let _ = session_state::parse(&input);
        let _ = session_state::rewrite_launch_urls(&input, &|id| format!("https://w/{id}"));
        let _ = session_results::parse(&input);
        let _ = launch_data::parse(&input);
        let _ = endpoints::parse(&input);
        let _ = endpoints::rewrite_urls(&input, &|u| map.rewrite(u));
        let _ = parse_authorization(&input);
        let _ = media::accepts([input.as_slice()], media::SESSION_STATE);
        let _ = media::content_type_matches(&input, media::SESSION_PARAMS);
        let text = String::from_utf8_lossy(&input);
        let _ = Challenge::parse(&text);
        let _ = map.rewrite(&text);
    }
    // The generator still produces valid documents now and then: the inputs stay meaningful.
    assert!(parsed_ok > 0);
}

/// Broker answers and gateway-made ids, mutated: the NFuse reader, the legacy decoder and the
/// session-id opener must refuse what they cannot read, never panic.
#[test]
fn mutated_broker_answers_and_session_ids_never_panic() {
    use sessiongate::protocol::nfuse::{parse_response, RequestKind};
    use sessiongate::protocol::session_id::{SessionIdKey, SessionRef};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nfuse");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 6, "the NFuse fixtures are there");
    let key = SessionIdKey::new(&[9; 32]).unwrap();
    let id = key
        .seal(
            "CORP\\alice",
            &SessionRef {
                farm: "XA65".into(),
                in_name: "Notepad".into(),
                host_id_type: "ima-host-id".into(),
                host_id: "23363".into(),
                session_id: "2".into(),
            },
        )
        .unwrap();
    let mut rng = Rng(0x4e46_7573_6500_0003);
    let mut parsed_ok = 0usize;
    for round in 0..3000 {
        let input = mutate(&mut rng, &seeds[round % seeds.len()]);
        for kind in RequestKind::ALL {
            parsed_ok += usize::from(parse_response(&input, kind).is_ok());
        }
        let _ = sessiongate::protocol::xml::decode_legacy(&input);
        let mutated_id = mutate(&mut rng, id.as_bytes());
        let _ = key.open("CORP\\alice", &String::from_utf8_lossy(&mutated_id));
    }
    assert!(parsed_ok > 0);
}

#[test]
fn deep_nesting_and_huge_inputs_are_refused_not_crashed() {
    let deep = format!(
        "<sessionparams xmlns=\"http://citrix.com/delivery-services/1-0/sessionparams\">{}<clientName>x</clientName>{}</sessionparams>",
        "<a>".repeat(10_000),
        "</a>".repeat(10_000)
    );
    let many_tickets = format!(
        "<sessionparams xmlns=\"http://citrix.com/delivery-services/1-0/sessionparams\"><clientName>x</clientName><tickets>{}</tickets></sessionparams>",
        "<ticket>T</ticket>".repeat(10_000)
    );
    for (case, refused) in [
        (
            "deep sessionparams",
            session_params::parse(deep.as_bytes(), false, &Limits::default()).is_err(),
        ),
        (
            "deep document to rewrite",
            session_state::rewrite_launch_urls(deep.as_bytes(), &|id| id.to_string()).is_err(),
        ),
        (
            "10 000 tickets",
            session_params::parse(many_tickets.as_bytes(), true, &Limits::default()).is_err(),
        ),
    ] {
        assert!(refused, "{case}");
    }
}
