//! The certificate an HTTPS listener serves: read, parsed and matched with its private key in
//! wiring, so that `sessiongate -t` reports a file that does not load, or a key that belongs to
//! another certificate, with the key that names it.
//!
//! Pingora's `TlsSettings` would read the files itself when the listener starts and panic on a
//! bad one (reference notes on Pingora, §10.6). Here the checked certificate is handed to rustls
//! through a resolver instead, so a listener never reads a file at start and cannot fail there.
//! The private key is never printed: errors name the file, not its content.

use std::path::Path;
use std::sync::Arc;

use pingora::listeners::tls::TlsSettings;
use pingora::tls::sign::CertifiedKey;
use pingora::tls::{
    install_default_crypto_provider, load_certs_and_key_files, load_pem_file_ca,
    load_pem_file_private_key, ClientHello, CryptoProvider, ResolvesServerCert,
};

use crate::config::{ConfigIssue, TlsListener};

/// The loaded certificate chain and key of one listener.
pub struct ListenerCertificate {
    key: Arc<CertifiedKey>,
    http2: bool,
}

/// Hands rustls the one certificate, whatever the client asks for by SNI.
struct Fixed(Arc<CertifiedKey>);

impl std::fmt::Debug for Fixed {
    /// Says nothing of the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fixed(certificate)")
    }
}

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

impl ListenerCertificate {
    /// Load and check the files of `listener`.
    pub fn load(listener: &TlsListener) -> Result<ListenerCertificate, ConfigIssue> {
        let index = listener.index;
        let issue = |field: &str, problem: String, fix: &str| ConfigIssue {
            key: format!("listen[{index}].{field}"),
            problem,
            fix: fix.to_string(),
        };
        let (cert_path, key_path) = (text(&listener.certificate_file), text(&listener.key_file));
        const CERT_FIX: &str = "name a readable PEM file with the server certificate first, then its intermediates (-----BEGIN CERTIFICATE-----)";
        const KEY_FIX: &str = "name a readable PEM file with the certificate's private key (-----BEGIN PRIVATE KEY-----, RSA or EC)";
        match load_pem_file_ca(&cert_path) {
            Ok(first) if !first.is_empty() => {}
            Ok(_) => {
                return Err(issue(
                    "certificate_file",
                    format!("{cert_path} holds no PEM certificate"),
                    CERT_FIX,
                ))
            }
            Err(e) => {
                return Err(issue(
                    "certificate_file",
                    format!("cannot load {cert_path}: {}", reason(&e)),
                    CERT_FIX,
                ))
            }
        }
        match load_pem_file_private_key(&key_path) {
            Ok(key) if !key.is_empty() => {}
            Ok(_) => {
                return Err(issue(
                    "key_file",
                    format!("{key_path} holds no PEM private key"),
                    KEY_FIX,
                ))
            }
            Err(e) => {
                return Err(issue(
                    "key_file",
                    format!("cannot load {key_path}: {}", reason(&e)),
                    KEY_FIX,
                ))
            }
        }
        let (certs, key) = match load_certs_and_key_files(&cert_path, &key_path) {
            Ok(Some(pair)) => pair,
            Ok(None) | Err(_) => {
                return Err(issue(
                    "key_file",
                    format!("{key_path} holds no private key of a kind rustls reads"),
                    KEY_FIX,
                ))
            }
        };
        install_default_crypto_provider();
        let Some(provider) = CryptoProvider::get_default() else {
            return Err(issue("key_file", "no TLS crypto provider".into(), KEY_FIX));
        };
        let key = CertifiedKey::from_der(certs, key, provider).map_err(|e| match e {
            pingora::tls::RusTlsError::InconsistentKeys(_) => issue(
                "key_file",
                format!("{key_path} is not the private key of the certificate in {cert_path}"),
                "give the key the certificate was issued for, or the certificate of this key",
            ),
            pingora::tls::RusTlsError::General(_) => issue(
                "key_file",
                format!("{key_path}: the private key cannot be used ({e})"),
                KEY_FIX,
            ),
            _ => issue(
                "certificate_file",
                format!("{cert_path}: the certificate cannot be used ({e})"),
                CERT_FIX,
            ),
        })?;
        Ok(ListenerCertificate {
            key: Arc::new(key),
            http2: listener.http2,
        })
    }

    /// Pingora's settings for the listener: TLS 1.2 and 1.3, HTTP/2 offered by ALPN if asked.
    pub fn settings(&self) -> pingora::Result<TlsSettings> {
        // No paths: the resolver serves the certificate already loaded.
        let mut settings = TlsSettings::intermediate("", "")?;
        settings.set_cert_resolver(Arc::new(Fixed(self.key.clone())));
        if self.http2 {
            settings.enable_h2();
        }
        Ok(settings)
    }
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

/// What went wrong reading a file, without Pingora's context chain.
fn reason(e: &pingora::Error) -> String {
    match &e.cause {
        Some(cause) => cause.to_string(),
        None => e.etype().as_str().to_string(),
    }
}
