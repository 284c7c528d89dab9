use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

use super::*;

/// Lines written, shared with the subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::ErrorKind::Other)?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// One access event written in `format`, as the gateway writes it.
fn line(format: AccessFormat) -> String {
    let out = Captured::default();
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(out.clone())
        .event_format(AccessLine::fixed(format));
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(
            target: "access",
            request_id = "abc-1",
            method = %"POST",
            path = %"/Citrix/Store/sessions/v1/available",
            store = "store",
            status = 200u64,
            reason = "-",
            client = %"a \"quoted\" = value\nnext",
            duration_ms = 3u64,
        );
    });
    let bytes = out.0.lock().map(|b| b.clone()).unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[test]
fn logfmt_is_one_line_with_quoting_where_needed() {
    let line = line(AccessFormat::Logfmt);
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(line.starts_with("ts="), "{line}");
    assert!(line.contains(" level=info log=access request_id=abc-1 method=POST path=/Citrix/Store/sessions/v1/available store=store status=200 reason=- "), "{line}");
    assert!(
        line.contains(r#"client="a \"quoted\" = value\nnext" duration_ms=3"#),
        "{line}"
    );
}

#[test]
fn json_is_one_object_with_numbers_as_numbers() {
    let line = line(AccessFormat::Json);
    assert_eq!(line.lines().count(), 1, "{line}");
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap_or_default();
    assert_eq!(v["log"], "access");
    assert_eq!(v["request_id"], "abc-1");
    assert_eq!(v["status"], 200);
    assert_eq!(v["duration_ms"], 3);
    assert_eq!(v["client"], "a \"quoted\" = value\nnext");
    assert!(v["ts"].as_str().is_some_and(|t| t.ends_with('Z')), "{line}");
}
