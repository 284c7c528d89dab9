//! The access log: one line per request (target `access`, level INFO), in the format the
//! configuration asks for (`access_log.format`):
//!
//! * `logfmt` (the default): `ts=… level=info log=access request_id=… status=200 …`, values
//!   quoted when they hold a space, `=`, a quote or a control character;
//! * `json`: one JSON object per line, numbers as numbers;
//! * `text`: tracing's own human format, as the other log lines;
//! * `off`: no access lines.
//!
//! The fields are the ones the gateway puts on the event (see `proxy::Gateway::logging`), in
//! order; the line never holds a header, a query string or a body, so no token, ticket, password
//! or ICA text can reach it. The format is a process-wide setting, made from the configuration
//! before the server starts.

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU8, Ordering};

use serde::Deserialize;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The target of access lines.
pub const TARGET: &str = "access";

/// How access lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessFormat {
    #[default]
    Logfmt,
    Json,
    Text,
    Off,
}

static FORMAT: AtomicU8 = AtomicU8::new(AccessFormat::Logfmt as u8);

/// Use `format` for the access lines written from now on.
pub fn set_format(format: AccessFormat) {
    FORMAT.store(format as u8, Ordering::Relaxed);
}

/// The format in use.
pub fn format() -> AccessFormat {
    match FORMAT.load(Ordering::Relaxed) {
        x if x == AccessFormat::Json as u8 => AccessFormat::Json,
        x if x == AccessFormat::Text as u8 => AccessFormat::Text,
        x if x == AccessFormat::Off as u8 => AccessFormat::Off,
        _ => AccessFormat::Logfmt,
    }
}

/// A field's value, keeping numbers apart so JSON writes them unquoted.
enum Value {
    Number(String),
    Text(String),
}

/// The event's fields in order.
#[derive(Default)]
struct Fields(Vec<(&'static str, Value)>);

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0
            .push((field.name(), Value::Number(value.to_string())));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0
            .push((field.name(), Value::Number(value.to_string())));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name(), Value::Text(value.to_string())));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `%x` fields arrive here wrapped so that Debug prints their Display.
        self.0
            .push((field.name(), Value::Text(format!("{value:?}"))));
    }
}

/// The formatter of the access layer (logfmt or JSON; `text` and `off` never reach it).
#[derive(Debug, Clone, Copy, Default)]
pub struct AccessLine {
    /// A format of its own instead of the process-wide one (tests).
    fixed: Option<AccessFormat>,
}

impl AccessLine {
    /// Writes in the process-wide format ([`set_format`]).
    pub fn configured() -> AccessLine {
        AccessLine { fixed: None }
    }

    /// Always writes in `format`.
    pub fn fixed(format: AccessFormat) -> AccessLine {
        AccessLine {
            fixed: Some(format),
        }
    }
}

impl<S, N> FormatEvent<S, N> for AccessLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut ts = String::with_capacity(32);
        SystemTime.format_time(&mut Writer::new(&mut ts))?;
        let line = match self.fixed.unwrap_or_else(format) {
            AccessFormat::Json => {
                let mut fields = Fields::default();
                fields.0.push(("ts", Value::Text(ts)));
                fields.0.push(("level", Value::Text("info".into())));
                fields.0.push(("log", Value::Text(TARGET.into())));
                event.record(&mut fields);
                json(&fields)
            }
            _ => logfmt_line(&ts, event),
        };
        writer.write_str(&line)?;
        writer.write_char('\n')
    }
}

/// A logfmt line written as the fields are visited: one string, no per-field allocation (this
/// runs for every request).
struct Logfmt {
    line: String,
    /// Where a `%value` field is formatted before it is quoted; reused across fields.
    scratch: String,
}

impl Logfmt {
    fn field(&mut self, name: &str, value: &str) {
        if !self.line.is_empty() {
            self.line.push(' ');
        }
        self.line.push_str(name);
        self.line.push('=');
        push_logfmt_value(&mut self.line, value);
    }
}

impl Visit for Logfmt {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.scratch.clear();
        let _ = write!(self.scratch, "{value}");
        let scratch = std::mem::take(&mut self.scratch);
        self.field(field.name(), &scratch);
        self.scratch = scratch;
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.scratch.clear();
        let _ = write!(self.scratch, "{value}");
        let scratch = std::mem::take(&mut self.scratch);
        self.field(field.name(), &scratch);
        self.scratch = scratch;
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field.name(), value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `%x` fields arrive here wrapped so that Debug prints their Display.
        self.scratch.clear();
        let _ = write!(self.scratch, "{value:?}");
        let scratch = std::mem::take(&mut self.scratch);
        self.field(field.name(), &scratch);
        self.scratch = scratch;
    }
}

/// `ts=… level=info log=access` and the event's fields, in order.
fn logfmt_line(ts: &str, event: &Event<'_>) -> String {
    let mut visitor = Logfmt {
        line: String::with_capacity(320),
        scratch: String::with_capacity(64),
    };
    visitor.field("ts", ts);
    visitor.field("level", "info");
    visitor.field("log", TARGET);
    event.record(&mut visitor);
    visitor.line
}

/// `text` as a logfmt value: as it is when plain, else quoted with `"`, `\\`, newlines and
/// control characters escaped.
fn push_logfmt_value(line: &mut String, text: &str) {
    let plain = !text.is_empty()
        && !text
            .chars()
            .any(|c| c == ' ' || c == '=' || c == '"' || c == '\\' || c.is_control());
    if plain {
        line.push_str(text);
        return;
    }
    line.push('"');
    for c in text.chars() {
        match c {
            '"' => line.push_str("\\\""),
            '\\' => line.push_str("\\\\"),
            '\n' => line.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(line, "\\u{{{:04x}}}", c as u32);
            }
            c => line.push(c),
        }
    }
    line.push('"');
}

fn json(fields: &Fields) -> String {
    let mut object = serde_json::Map::with_capacity(fields.0.len());
    for (name, value) in &fields.0 {
        let value = match value {
            Value::Number(n) => n
                .parse::<serde_json::Number>()
                .map(serde_json::Value::Number)
                .unwrap_or_else(|_| serde_json::Value::String(n.clone())),
            Value::Text(t) => serde_json::Value::String(t.clone()),
        };
        object.insert((*name).to_string(), value);
    }
    serde_json::Value::Object(object).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
