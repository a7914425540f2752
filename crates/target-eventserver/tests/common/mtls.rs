//! Mutual TLS for tests of a relay that terminates a node's TLS and posts on with a
//! client certificate of its own: certificates made here (rcgen), and a TLS listener
//! for the relay's axum routes. Real TLS over real loopback sockets.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};

/// A certificate and its key, both PEM.
pub(crate) type Pair = (String, String);

/// The certificates of one test: the site's (the server's and the relay's, for
/// `127.0.0.1`) and a CA that signs client certificates, written under `dir`.
pub(crate) struct Pki {
    dir: PathBuf,
    /// The site's certificate and key.
    pub site: Pair,
    /// The site's certificate and key files.
    pub site_crt: String,
    pub site_key: String,
    /// The client CA's certificate file (the server's `[tls] client_ca`).
    pub client_ca: String,
    ca: (rcgen::Certificate, KeyPair),
}

impl Pki {
    /// New certificates under `dir` (made if needed).
    pub(crate) fn new(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir).unwrap();
        let site = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        let site = (site.cert.pem(), site.key_pair.serialize_pem());
        let (site_crt, site_key) = write_pair(dir, "site", &site);
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "auditrail test clients");
        let ca_key = KeyPair::generate().unwrap();
        let ca = (ca_params.self_signed(&ca_key).unwrap(), ca_key);
        let client_ca = dir.join("clients-ca.pem");
        std::fs::write(&client_ca, ca.0.pem()).unwrap();
        Pki {
            dir: dir.to_owned(),
            site,
            site_crt,
            site_key,
            client_ca: client_ca.display().to_string(),
            ca,
        }
    }

    /// A client certificate of the CA for the subjectAltName `name`: its PEM and its
    /// key's.
    pub(crate) fn client(&self, name: &str) -> Pair {
        let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca.0, &self.ca.1).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    /// [`Pki::client`] written to `file`.crt and `file`.key; their paths.
    pub(crate) fn client_files(&self, file: &str, name: &str) -> (String, String) {
        write_pair(&self.dir, file, &self.client(name))
    }

    /// The server's `[tls]` table: the site's certificate, client certificates of the CA.
    pub(crate) fn server_tls(&self) -> String {
        format!(
            "[tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\n",
            self.site_crt, self.site_key, self.client_ca
        )
    }

    /// An HTTP client that trusts the site and presents `identity` (a relay's own).
    pub(crate) fn client_presenting(&self, identity: &Pair) -> reqwest::Client {
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(self.site.0.as_bytes()).unwrap())
            .identity(
                reqwest::Identity::from_pem(format!("{}{}", identity.0, identity.1).as_bytes())
                    .unwrap(),
            )
            .build()
            .unwrap()
    }
}

/// Writes `name`.crt and `name`.key into `dir`; their paths.
fn write_pair(dir: &Path, name: &str, (cert, key): &Pair) -> (String, String) {
    let crt = dir.join(format!("{name}.crt"));
    let k = dir.join(format!("{name}.key"));
    std::fs::write(&crt, cert).unwrap();
    std::fs::write(&k, key).unwrap();
    (crt.display().to_string(), k.display().to_string())
}

/// A TLS listener for axum: the handshake is made in `accept` (a failed one is
/// skipped), with the server certificate `cert` and key `key`, no client certificate
/// asked for (the relay takes the node's connection as any TLS front would).
struct TlsListener {
    tcp: tokio::net::TcpListener,
    tls: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.tls.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Serves `app` over TLS on a loopback port; its `https://127.0.0.1:PORT` url.
pub(crate) async fn serve_tls(app: axum::Router, (cert, key): &Pair) -> String {
    use rustls_pki_types::pem::PemObject;
    let chain = vec![rustls_pki_types::CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()];
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let listener = TlsListener {
        tcp,
        tls: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    };
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("https://{addr}")
}

/// A pinned spooled node's config for `url` over TLS (trusting the site), with the
/// client certificate files `(crt, key)`, that retries quickly.
pub(crate) fn node_config(
    pki: &Pki,
    url: &str,
    (crt, key): &(String, String),
    server_key: auditrail_target_eventserver::ServerKey,
) -> auditrail_target_eventserver::EventServerConfig {
    let mut c = super::pinned_spool_config(url.to_owned(), server_key);
    c.ca_file = Some(pki.site_crt.as_str().into());
    c.client_cert = Some(crt.as_str().into());
    c.client_key = Some(key.as_str().into());
    c
}
