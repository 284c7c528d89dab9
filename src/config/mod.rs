//! Configuration: YAML file → validated runtime [`Config`].
//!
//! The pipeline is `text` → [`file::FileConfig`] (serde, unknown keys rejected) →
//! [`validate::validate`] → [`Config`], plain data and no I/O beyond reading the file. What needs
//! the outside world (resolving names, reading key files, building verifiers and pools) is done in
//! wiring (`server`); `sessiongate -t` runs both.

pub mod cidr;
pub mod error;
pub mod file;
pub mod runtime;
pub mod validate;

pub use cidr::Cidr;
pub use error::{ConfigError, ConfigIssue, Issues};
pub use runtime::{
    ActiveSessionPolicy, Backend, Canary, ChallengeTemplate, Clients, Config, Farm, FarmHosts,
    Farms, Force, GuardConfig, HttpCheck, IdentityConfig, IdentitySource, IntrospectionConfig,
    JwtAlgorithm, JwtConfig, Store, StoreFront, Throttle, TlsListener, XmlRelay,
};

/// Parse and validate configuration text; `origin` names it in errors (a file path).
pub fn from_yaml(text: &str, origin: &str) -> Result<Config, ConfigError> {
    let file: file::FileConfig = serde_yaml::from_str(text).map_err(|e| ConfigError::Syntax {
        origin: origin.to_string(),
        message: e.to_string(),
    })?;
    validate::validate(file).map_err(|issues| ConfigError::Invalid {
        origin: origin.to_string(),
        issues,
    })
}

/// Read, parse and validate a configuration file.
pub fn load(path: &str) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_string(),
        source,
    })?;
    from_yaml(&text, path)
}

#[cfg(test)]
mod canary_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod relay_tests;
#[cfg(test)]
mod tests;
