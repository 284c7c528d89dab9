//! Criterion benchmarks of the NFuse (legacy XML service) messages: writing a
//! RequestReconnectSessionData, reading ResponseReconnectSessionData with 1 to 100 sessions and
//! reading a ResponseAddress.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sessiongate::protocol::nfuse::{self, ClientId, Credentials, Request, RequestKind};

/// The launch form of the ResponseAddress sample (citrix-protocols.md §1.5).
const ADDRESS: &[u8] = include_bytes!("../tests/fixtures/nfuse/address-launch.xml");

fn sessions_with(n: usize) -> Vec<u8> {
    let apps: String = (0..n)
        .map(|i| {
            format!(
                "<AppData type=\"session\"><InName>App {i}</InName><DataType value=\"session\"/>\
                 <ServerType>win32</ServerType><ClientType>ica30</ClientType>\
                 <HostId type=\"ima-host-id\">{}</HostId><SessionId>{i}</SessionId></AppData>",
                20000 + i
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\r\n<!DOCTYPE NFuseProtocol SYSTEM \"NFuse.dtd\">\r\n\
         <NFuseProtocol version=\"4.7\"><ResponseReconnectSessionData><AppDataSet>{apps}\
         </AppDataSet></ResponseReconnectSessionData></NFuseProtocol>"
    )
    .into_bytes()
}

fn bench_request(c: &mut Criterion) {
    // A user in a handful of groups, as the gateway sends it.
    let credentials = Credentials {
        sam: "EXAMPLE\\alice".into(),
        sids: (0..8)
            .map(|i| format!("S-1-5-21-1111111111-2222222222-3333333333-{}", 1100 + i))
            .collect(),
    };
    let client = ClientId::Name("WI_7IR5mS5__XBwkUuKL".into());
    c.bench_function("nfuse_request/reconnect_session_data", |b| {
        b.iter(|| {
            Request::ReconnectSessionData {
                credentials: black_box(&credentials),
                client: black_box(&client),
                active: true,
                disconnected: true,
            }
            .to_xml()
        })
    });
}

fn bench_sessions(c: &mut Criterion) {
    let mut g = c.benchmark_group("nfuse_parse_sessions");
    for n in [1usize, 10, 100] {
        let doc = sessions_with(n);
        g.throughput(Throughput::Bytes(doc.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &doc, |b, doc| {
            b.iter(|| nfuse::parse_response(black_box(doc), RequestKind::ReconnectSessionData))
        });
    }
    g.finish();
}

fn bench_address(c: &mut Criterion) {
    let mut g = c.benchmark_group("nfuse_parse_address");
    g.throughput(Throughput::Bytes(ADDRESS.len() as u64));
    g.bench_function("launch", |b| {
        b.iter(|| nfuse::parse_response(black_box(ADDRESS), RequestKind::Address))
    });
    g.finish();
}

criterion_group!(benches, bench_request, bench_sessions, bench_address);
criterion_main!(benches);
