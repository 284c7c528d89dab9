//! The CA certificates an upstream's TLS certificate must chain to (`ca_file`): StoreFront
//! servers, XML brokers and the introspection endpoint of a site usually carry certificates of a
//! private CA, which the system's roots do not know.
//!
//! The file is read once, in wiring (so `sessiongate -t` tries it), and every certificate in it
//! is checked the two ways Pingora will use it: parsed as X.509 (Pingora's own parser panics on
//! a certificate it cannot read) and accepted by rustls as a trust anchor. The loaded list rides
//! on each connection's peer ([`Trust::apply`]); without one, Pingora's connector trusts the
//! system's roots. Either way the certificate is checked against the peer's `host` (its SNI).

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;

use pingora::protocols::tls::CaType;
use pingora::tls::{load_ca_file_into_store, RootCertStore};
use pingora::upstreams::peer::HttpPeer;
use pingora::utils::tls::WrappedX509;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Largest CA file read: a bundle of a few hundred certificates.
const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// Why a CA file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is larger than {MAX_CA_FILE_BYTES} bytes")]
    TooLarge { path: String },
    #[error("{path} holds no PEM certificate")]
    Empty { path: String },
    #[error("{path}: PEM block {index} is not a readable certificate: {why}")]
    BadCertificate {
        path: String,
        index: usize,
        why: String,
    },
}

/// The trust anchors of one upstream section.
#[derive(Clone)]
pub struct Trust {
    certificates: Arc<CaType>,
    /// Keeps pooled connections checked against other anchors apart: Pingora's pool key leaves
    /// the CA out.
    group: u64,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Trust({} certificate(s))", self.certificates.len())
    }
}

impl Trust {
    /// Read the PEM certificates of `path`.
    pub fn load(path: &Path) -> Result<Trust, TrustError> {
        let shown = path.display().to_string();
        let read = |source| TrustError::Read {
            path: shown.clone(),
            source,
        };
        if std::fs::metadata(path).map_err(read)?.len() > MAX_CA_FILE_BYTES {
            return Err(TrustError::TooLarge { path: shown });
        }
        let text = std::fs::read(path).map_err(read)?;
        let mut certificates = Vec::new();
        for (index, block) in x509_parser::pem::Pem::iter_from_buffer(&text).enumerate() {
            let bad = |why: String| TrustError::BadCertificate {
                path: shown.clone(),
                index,
                why,
            };
            let block = block.map_err(|e| bad(e.to_string()))?;
            if block.label != "CERTIFICATE" {
                return Err(bad(format!("a {} block", block.label)));
            }
            let certificate = WrappedX509::try_new(block.contents, |der| {
                X509Certificate::from_der(der).map(|(_, c)| c)
            })
            .map_err(|e| bad(e.to_string()))?;
            certificates.push(certificate);
        }
        if certificates.is_empty() {
            return Err(TrustError::Empty { path: shown });
        }
        // rustls reads them again as trust anchors at each connect; a refusal there would fail
        // every connection, so it is found here.
        load_ca_file_into_store(path, &mut RootCertStore::empty()).map_err(|e| {
            TrustError::BadCertificate {
                path: shown.clone(),
                index: 0,
                why: e.to_string(),
            }
        })?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for c in &certificates {
            c.borrow_raw_cert().hash(&mut hasher);
        }
        Ok(Trust {
            certificates: certificates.into(),
            group: hasher.finish(),
        })
    }

    /// Make `peer` check its server's certificate against these anchors only.
    pub fn apply(&self, peer: &mut HttpPeer) {
        peer.options.ca = Some(self.certificates.clone());
        peer.group_key = self.group;
    }
}
