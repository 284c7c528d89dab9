//! Configuration errors: each names the key it is about and says how to fix it.

use std::fmt;

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Where the problem is, as a key path such as `stores[0].storefront.upstreams[1]`.
    pub key: String,
    /// What is wrong.
    pub problem: String,
    /// What to do about it.
    pub fix: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (fix: {})", self.key, self.problem, self.fix)
    }
}

/// The problems found so far, by the file's rules or by wiring.
#[derive(Debug, Default)]
pub struct Issues(pub Vec<ConfigIssue>);

impl Issues {
    /// Record a problem of `key`, with what to do about it.
    pub fn push(
        &mut self,
        key: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.0.push(ConfigIssue {
            key: key.into(),
            problem: problem.into(),
            fix: fix.into(),
        });
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{origin}: not a valid configuration: {message} (fix: check the key names and types against conf/gateway.yaml)")]
    Syntax { origin: String, message: String },
    #[error("{origin}: {} problem(s):\n{}", .issues.len(), render(.issues))]
    Invalid {
        origin: String,
        issues: Vec<ConfigIssue>,
    },
}

/// One problem a line, as `-t` prints them.
pub fn render(issues: &[ConfigIssue]) -> String {
    issues
        .iter()
        .map(|i| format!("  - {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}
