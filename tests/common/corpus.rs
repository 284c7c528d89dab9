//! Case files of the hostile-input corpus (`tests/fixtures/hostile/`): a one-line note, a few
//! directives, and raw HTTP bytes written as text with placeholders and escapes. The format is
//! described in `tests/fixtures/README.md` (lint allowances come from `mod.rs`).

use std::path::{Path, PathBuf};

/// One case file.
#[derive(Debug, Clone)]
pub struct Case {
    /// File name without the extension; the category is the part before the first `-`.
    pub name: String,
    /// What the case tries (the first line, without `# `).
    pub note: String,
    /// `# key: value` lines after the note, in order.
    directives: Vec<(String, String)>,
    /// The message template: every line after the comment lines.
    lines: Vec<String>,
}

impl Case {
    /// Read one case file; panics with the file's name when it breaks the format.
    pub fn load(path: &Path) -> Case {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("case file name")
            .to_string();
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{name}: unreadable case file: {e}"));
        let mut lines = text.split('\n').map(str::to_string).collect::<Vec<_>>();
        // A final newline ends the last line; it does not start an empty one.
        if text.ends_with('\n') {
            lines.pop();
        }
        let comments = lines.iter().take_while(|l| l.starts_with('#')).count();
        let header: Vec<String> = lines.drain(..comments).collect();
        let note = header
            .first()
            .and_then(|l| l.strip_prefix("# "))
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| panic!("{name}: the first line must be `# <what the case tries>`"))
            .to_string();
        let directives = header
            .iter()
            .skip(1)
            .map(|l| {
                let d = l.strip_prefix("# ").and_then(|d| d.split_once(':'));
                let (k, v) = d.unwrap_or_else(|| panic!("{name}: bad directive line {l:?}"));
                (k.trim().to_string(), v.trim().to_string())
            })
            .collect();
        assert!(!lines.is_empty(), "{name}: no message after the comments");
        Case {
            name,
            note,
            directives,
            lines,
        }
    }

    /// The category: what the file name says before its first `-`.
    pub fn category(&self) -> &str {
        self.name.split('-').next().unwrap_or("")
    }

    /// The value of directive `key`, if the case has it.
    pub fn directive(&self, key: &str) -> Option<&str> {
        self.directives
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The message as bytes, placeholders replaced by `vars`.
    pub fn render(&self, vars: &[(&str, String)]) -> Vec<u8> {
        let lines: Vec<String> = self
            .lines
            .iter()
            .map(|l| substitute(&self.name, l, vars))
            .collect();
        let blank = lines.iter().position(String::is_empty);
        let (head, body) = match blank {
            Some(i) => (&lines[..i], Some(render_lines(&self.name, &lines[i + 1..]))),
            None => (&lines[..], None),
        };
        let len = body.as_ref().map(Vec::len);
        let head: Vec<String> = head
            .iter()
            .map(|l| match len {
                Some(n) => l.replace("{len}", &n.to_string()),
                None if l.contains("{len}") => {
                    panic!("{}: {{len}} needs an empty line before the body", self.name)
                }
                None => l.clone(),
            })
            .collect();
        let mut out = render_lines(&self.name, &head);
        if let Some(body) = body {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&body);
        }
        out
    }
}

/// Every `*.http` case directly in `dir` (relative to the crate), sorted by name.
pub fn load_dir(dir: &str) -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "http"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Case::load(p)).collect()
}

/// Replace `{name}` placeholders and expand `{repeat:N:TEXT}`; `{len}` is left for later.
/// Braces around anything else (`{"json"}`) are kept as they are.
fn substitute(case: &str, line: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let inner = &after[..close];
        if let Some(spec) = inner.strip_prefix("repeat:") {
            let (n, text) = spec
                .split_once(':')
                .unwrap_or_else(|| panic!("{case}: {{repeat:N:TEXT}} expected"));
            let n: usize = n
                .parse()
                .unwrap_or_else(|_| panic!("{case}: bad repeat count {n:?}"));
            out.push_str(&text.repeat(n));
        } else if inner == "len" {
            out.push_str("{len}");
        } else if let Some((_, value)) = vars.iter().find(|(k, _)| *k == inner) {
            out.push_str(value);
        } else if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_lowercase()) {
            panic!("{case}: unknown placeholder {{{inner}}}");
        } else {
            out.push('{');
            out.push_str(inner);
            out.push('}');
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Lines to bytes: each line ends with CRLF unless it ends with a lone `\`; escapes decoded.
fn render_lines(case: &str, lines: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        let trailing = line.bytes().rev().take_while(|&b| b == b'\\').count();
        let joined = trailing % 2 == 1;
        let text = if joined {
            &line[..line.len() - 1]
        } else {
            line.as_str()
        };
        unescape(case, text, &mut out);
        if !joined {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// Decode `\r`, `\n`, `\t`, `\0`, `\\` and `\xHH`.
fn unescape(case: &str, text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let (byte, width) = match bytes.get(i + 1) {
            Some(b'r') => (b'\r', 2),
            Some(b'n') => (b'\n', 2),
            Some(b't') => (b'\t', 2),
            Some(b'0') => (0, 2),
            Some(b'\\') => (b'\\', 2),
            Some(b'x') => {
                let hex = text.get(i + 2..i + 4).unwrap_or("");
                let byte = u8::from_str_radix(hex, 16)
                    .unwrap_or_else(|_| panic!("{case}: bad escape \\x{hex}"));
                (byte, 4)
            }
            other => panic!(
                "{case}: unknown escape \\{:?}",
                other.map(|&b| char::from(b))
            ),
        };
        out.push(byte);
        i += width;
    }
}
