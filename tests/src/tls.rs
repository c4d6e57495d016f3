//! A local HTTPS green service with a test certificate authority, for a name
//! that does not resolve: proves host-name pinning (SNI, certificate check and
//! `Host` use the name while the connection goes to 127.0.0.1), and a
//! certificate's expiry.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::loopback;

/// What one TLS connection asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The TLS SNI name.
    pub sni: Option<String>,
    /// The `Host` header.
    pub host: Option<String>,
}

/// The HTTPS server. Stops when dropped.
#[derive(Debug)]
pub struct TlsGreen {
    addr: SocketAddr,
    ca_pem: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsGreen {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How long the leaf certificate is valid.
#[derive(Debug, Clone, Copy)]
enum Validity {
    /// rcgen's default: until the year 4096.
    Long,
    /// Expired in 2020.
    Expired,
    /// From a day ago until this long from now.
    For(Duration),
}

impl TlsGreen {
    /// Serves `{"status":"ok"}` over TLS with a certificate for `name`, issued
    /// by a fresh test CA.
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, Validity::Long).await
    }

    /// The same, with a certificate that expired in 2020.
    pub async fn start_expired(name: &str) -> Self {
        Self::start_with(name, Validity::Expired).await
    }

    /// The same, with a certificate that expires `valid_for` from now.
    pub async fn start_valid_for(name: &str, valid_for: Duration) -> Self {
        Self::start_with(name, Validity::For(valid_for)).await
    }

    async fn start_with(name: &str, validity: Validity) -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().expect("leaf key");
        let mut leaf_params = CertificateParams::new(vec![name.to_owned()]).expect("leaf params");
        match validity {
            Validity::Long => {}
            Validity::Expired => {
                leaf_params.not_before = rcgen::date_time_ymd(2019, 1, 1);
                leaf_params.not_after = rcgen::date_time_ymd(2020, 1, 1);
            }
            Validity::For(valid_for) => {
                let since_epoch = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .expect("after 1970");
                let now = rcgen::date_time_ymd(1970, 1, 1) + since_epoch;
                leaf_params.not_before = now - Duration::from_secs(86_400);
                leaf_params.not_after = now + valid_for;
            }
        }
        let leaf = leaf_params
            .signed_by(&leaf_key, &issuer)
            .expect("leaf certificate");
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(leaf.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .expect("TLS config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (listener, addr) = loopback().await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let record = record.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let sni = tls.get_ref().1.server_name().map(str::to_owned);
                    let mut request = Vec::new();
                    let mut buffer = [0_u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&request);
                    let host = text
                        .lines()
                        .find_map(|line| {
                            line.strip_prefix("host: ")
                                .or_else(|| line.strip_prefix("Host: "))
                        })
                        .map(str::to_owned);
                    record.lock().expect("lock").push(Seen { sni, host });
                    let body = r#"{"status":"ok"}"#;
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    tls.write_all(response.as_bytes()).await.ok();
                    tls.shutdown().await.ok();
                });
            }
        });
        TlsGreen {
            addr,
            ca_pem: ca_cert.pem(),
            seen,
            task,
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The test CA's certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// What each connection asked for.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}
