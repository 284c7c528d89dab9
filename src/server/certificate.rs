//! The certificate an HTTPS listener serves: read, parsed and matched with its private key in
//! wiring, so that `sessiongate -t` reports a file that does not load, or a key that belongs to
//! another certificate, with the key that names it.
//!
//! Pingora's `TlsSettings` would read the files itself when the listener starts and panic on a
//! bad one (reference notes on Pingora, §10.6). Here the checked certificate is handed to rustls
//! through a resolver instead, so a listener never reads a file at start and cannot fail there;
//! and a reload can hand the same resolver a renewed certificate ([`Served::replace`]), which
//! the next handshakes present while connections already open keep theirs.
//! The private key is never printed: errors name the file, not its content.

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use pingora::listeners::tls::TlsSettings;
use pingora::tls::sign::CertifiedKey;
use pingora::tls::{
    install_default_crypto_provider, load_certs_and_key_files, load_pem_file_ca,
    load_pem_file_private_key, ClientHello, CryptoProvider, ResolvesServerCert, RusTlsError,
};

use crate::config::{ConfigIssue, TlsListener};

/// The loaded certificate chain and key of one listener.
pub struct ListenerCertificate {
    key: Arc<CertifiedKey>,
    http2: bool,
}

/// The certificate a listener presents now, whatever the client asks for by SNI.
pub struct Served(ArcSwap<CertifiedKey>);

impl Served {
    /// Present `next` from the next handshake on.
    pub fn replace(&self, next: &ListenerCertificate) {
        self.0.store(next.key.clone());
    }
}

impl std::fmt::Debug for Served {
    /// Says nothing of the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Served(certificate)")
    }
}

impl ResolvesServerCert for Served {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.load_full())
    }
}

/// What to do about an unusable certificate file.
const CERT_FIX: &str = "name a readable PEM file with the server certificate first, then its intermediates (-----BEGIN CERTIFICATE-----)";
/// What to do about an unusable key file.
const KEY_FIX: &str = "name a readable PEM file with the certificate's private key (-----BEGIN PRIVATE KEY-----, RSA or EC)";

/// A problem of `listen[index].field`.
fn issue(index: usize, field: &str, problem: String, fix: &str) -> ConfigIssue {
    ConfigIssue {
        key: format!("listen[{index}].{field}"),
        problem,
        fix: fix.to_string(),
    }
}

/// Each file on its own first, so that the message names the one at fault: Pingora's loader
/// answers "nothing usable" for either.
fn check_files(index: usize, cert_path: &str, key_path: &str) -> Result<(), ConfigIssue> {
    let cert_problem = match load_pem_file_ca(&cert_path.to_string()) {
        Ok(first) if !first.is_empty() => None,
        Ok(_) => Some(format!("{cert_path} holds no PEM certificate")),
        Err(e) => Some(format!("cannot load {cert_path}: {}", reason(&e))),
    };
    if let Some(problem) = cert_problem {
        return Err(issue(index, "certificate_file", problem, CERT_FIX));
    }
    let key_problem = match load_pem_file_private_key(&key_path.to_string()) {
        Ok(key) if !key.is_empty() => None,
        Ok(_) => Some(format!("{key_path} holds no PEM private key")),
        Err(e) => Some(format!("cannot load {key_path}: {}", reason(&e))),
    };
    match key_problem {
        Some(problem) => Err(issue(index, "key_file", problem, KEY_FIX)),
        None => Ok(()),
    }
}

impl ListenerCertificate {
    /// Load and check the files of `listener`.
    pub fn load(listener: &TlsListener) -> Result<ListenerCertificate, ConfigIssue> {
        let index = listener.index;
        let (cert_path, key_path) = (text(&listener.certificate_file), text(&listener.key_file));
        check_files(index, &cert_path, &key_path)?;
        let unreadable_key = || {
            let problem = format!("{key_path} holds no private key of a kind rustls reads");
            issue(index, "key_file", problem, KEY_FIX)
        };
        let (certs, key) = match load_certs_and_key_files(&cert_path, &key_path) {
            Ok(Some(pair)) => pair,
            Ok(None) | Err(_) => return Err(unreadable_key()),
        };
        install_default_crypto_provider();
        let provider = CryptoProvider::get_default().ok_or_else(unreadable_key)?;
        let key = CertifiedKey::from_der(certs, key, provider).map_err(|e| match e {
            RusTlsError::InconsistentKeys(_) => issue(
                index,
                "key_file",
                format!("{key_path} is not the private key of the certificate in {cert_path}"),
                "give the key the certificate was issued for, or the certificate of this key",
            ),
            RusTlsError::General(_) => issue(
                index,
                "key_file",
                format!("{key_path}: the private key cannot be used ({e})"),
                KEY_FIX,
            ),
            _ => issue(
                index,
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

    /// Pingora's settings for the listener (TLS 1.2 and 1.3, HTTP/2 offered by ALPN if asked),
    /// and the handle through which a reload renews its certificate.
    pub fn settings(&self) -> pingora::Result<(TlsSettings, Arc<Served>)> {
        // No paths: the resolver serves the certificate already loaded.
        let mut settings = TlsSettings::intermediate("", "")?;
        let served = Arc::new(Served(ArcSwap::new(self.key.clone())));
        settings.set_cert_resolver(served.clone());
        if self.http2 {
            settings.enable_h2();
        }
        Ok((settings, served))
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
