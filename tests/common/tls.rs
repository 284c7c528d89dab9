//! TLS in tests: a test CA (rcgen) that issues server certificates into PEM files of a fresh
//! directory, a gateway with an HTTPS listener, simulators served over HTTPS, and HTTP/1.1 and
//! HTTP/2 clients over rustls (lint allowances come from `mod.rs`).

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pingora::listeners::tls::TlsSettings;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use sessiongate::server::{wait_for_listener, Handoff, Running};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{
    ClientConfig, ClientConnection, RootCertStore, ServerConfig, StreamOwned,
};

use super::{listener, raw, Gateway, Response};

/// A certificate authority of its own, with a directory for the files it writes.
pub struct Pki {
    pub dir: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    ca_der: CertificateDer<'static>,
    /// The CA certificate, PEM.
    pub ca_file: PathBuf,
}

impl Pki {
    /// A new CA named `name`, in a new directory.
    pub fn new(name: &str) -> Pki {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sessiongate-tls-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, cert.pem()).unwrap();
        Pki {
            dir,
            issuer: Issuer::new(params, key),
            ca_der: cert.der().clone(),
            ca_file,
        }
    }

    /// A server certificate for `names` (DNS names or IP addresses): (certificate file, key file).
    pub fn issue(&self, file: &str, names: &[&str]) -> (PathBuf, PathBuf) {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, file);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let cert_file = self.write(&format!("{file}.pem"), &cert.pem());
        let key_file = self.write(&format!("{file}.key"), &key.serialize_pem());
        (cert_file, key_file)
    }

    /// A rustls server with a certificate of this CA for `names`, for test servers that are not
    /// Pingora services.
    pub fn server_config(&self, names: &[&str]) -> Arc<ServerConfig> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let params = CertificateParams::new(names).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let key = PrivateKeyDer::try_from(key.serialize_der()).unwrap();
        let config = ServerConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
        Arc::new(config)
    }

    /// Write `text` to `name` in the directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A rustls client trusting this CA only, offering `alpn`.
    pub fn client(&self, alpn: &[&[u8]]) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        let mut config = ClientConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Pingora's settings for a simulator serving `cert` and `key`.
pub fn server_settings(cert: &Path, key: &Path) -> TlsSettings {
    TlsSettings::intermediate(cert.to_str().unwrap(), key.to_str().unwrap()).unwrap()
}

/// A gateway whose only client listener is HTTPS with `cert` and `key` (HTTP/2 offered), with
/// more top-level YAML `top` and the store list `stores`.
pub fn gateway(cert: &Path, key: &Path, top: &str, stores: &str) -> Gateway {
    let (client, admin_listener) = (listener(), listener());
    let addr = client.local_addr().unwrap();
    let admin = admin_listener.local_addr().unwrap();
    let handoff = Handoff::start(vec![client, admin_listener]).unwrap();
    let yaml = format!(
        "listen:\n  - address: \"{addr}\"\n    certificate_file: {}\n    key_file: {}\nadmin_listen: \"{admin}\"\nthreads: 1\ngrace_period_seconds: 0\nupgrade_socket: {}\n{top}stores:\n{stores}",
        cert.display(),
        key.display(),
        handoff.socket().display()
    );
    let config = sessiongate::config::from_yaml(&yaml, "test").expect("test config");
    let server = sessiongate::server::build(&config, Some(Handoff::opt())).expect("server");
    drop(handoff);
    let running = Running::spawn(server);
    assert!(wait_for_listener(addr, Duration::from_secs(10)));
    assert!(wait_for_listener(admin, Duration::from_secs(10)));
    Gateway {
        addr,
        admin,
        config,
        _running: running,
    }
}

/// An HTTP/1.1 connection over TLS to `addr`, checking the certificate for `name`.
pub struct TlsConn {
    reader: BufReader<StreamOwned<ClientConnection, TcpStream>>,
}

impl TlsConn {
    pub fn open(addr: SocketAddr, name: &str, config: Arc<ClientConfig>) -> TlsConn {
        let tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let name = ServerName::try_from(name.to_string()).unwrap();
        let conn = ClientConnection::new(config, name).unwrap();
        TlsConn {
            reader: BufReader::new(StreamOwned::new(conn, tcp)),
        }
    }

    /// Whether a TLS handshake with `addr` as `name` succeeds under `config` (the server's
    /// certificate accepted): `Err` with rustls' reason otherwise.
    pub fn handshake(
        addr: SocketAddr,
        name: &str,
        config: Arc<ClientConfig>,
    ) -> Result<(), String> {
        let mut tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let name = ServerName::try_from(name.to_string()).unwrap();
        let mut conn = ClientConnection::new(config, name).unwrap();
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// The protocol the server chose by ALPN.
    pub fn alpn(&self) -> Option<Vec<u8>> {
        self.reader
            .get_ref()
            .conn
            .alpn_protocol()
            .map(<[u8]>::to_vec)
    }

    /// Wait (up to the 10 s read timeout) for the server to close the connection: `true` when
    /// it did, `false` when it was still open.
    pub fn closed_by_server(&mut self) -> bool {
        let mut buf = [0u8; 256];
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return false
                }
                Err(_) => return true,
            }
        }
    }

    /// Send `request` and read its answer.
    pub fn roundtrip(&mut self, request: &[u8]) -> Response {
        self.reader.get_mut().write_all(request).unwrap();
        self.reader.get_mut().flush().unwrap();
        raw::read_response(&mut self.reader, false)
            .unwrap_or_else(|reply| panic!("no response: {reply:?}"))
    }
}

/// Send one HTTP/2 request to `addr` over TLS (ALPN `h2` only) and read the answer:
/// (status, headers, body).
pub fn h2_request(
    addr: SocketAddr,
    name: &str,
    config: Arc<ClientConfig>,
    request: http::Request<()>,
    body: &[u8],
) -> (u16, http::HeaderMap, Vec<u8>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = bytes::Bytes::copy_from_slice(body);
    let name = ServerName::try_from(name.to_string()).unwrap();
    runtime.block_on(async move {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (mut client, connection) = h2::client::handshake(tls).await.unwrap();
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let (answer, mut stream) = client.send_request(request, body.is_empty()).unwrap();
        if !body.is_empty() {
            stream.send_data(body, true).unwrap();
        }
        let answer = tokio::time::timeout(Duration::from_secs(10), answer)
            .await
            .expect("answer in time")
            .unwrap();
        let (parts, mut received) = answer.into_parts();
        let mut bytes = Vec::new();
        while let Some(chunk) = received.data().await {
            let chunk = chunk.unwrap();
            let _ = received.flow_control().release_capacity(chunk.len());
            bytes.extend_from_slice(&chunk);
        }
        (parts.status.as_u16(), parts.headers, bytes)
    })
}

/// Open a TLS connection to `addr` with ALPN `h2`, send `bytes` (perhaps a part of the client
/// preface) and wait up to 10 s for the server to close it: how long that took, `None` if it
/// stayed open.
pub fn h2_silent_until_closed(
    addr: SocketAddr,
    name: &str,
    config: Arc<ClientConfig>,
    bytes: &[u8],
) -> Option<Duration> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let name = ServerName::try_from(name.to_string()).unwrap();
    runtime.block_on(async move {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        tls.write_all(bytes).await.unwrap();
        tls.flush().await.unwrap();
        let started = std::time::Instant::now();
        let mut buf = [0u8; 1024];
        let closed = async {
            loop {
                match tls.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue,
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), closed)
            .await
            .ok()
            .map(|()| started.elapsed())
    })
}
