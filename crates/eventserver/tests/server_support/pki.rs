//! Test certificates (rcgen): a CA and the client certificates it signs, for the
//! mutual TLS tests, and a server that asks for them.

use std::path::Path;

use auditrail_eventserver::config::ServerConfig;

use super::{config_from, event_with, ndjson, start_with, TestServer, STORE};
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};

pub(crate) struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    pub(crate) fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        Ca {
            cert: params.self_signed(&key).unwrap(),
            key,
        }
    }

    pub(crate) fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A client certificate for the subjectAltName `name` (a DNS name, or a URI
    /// when it has `://`), as the PEM of the certificate and its key.
    pub(crate) fn client(&self, name: &str, expired: bool) -> String {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = vec![if name.contains("://") {
            rcgen::SanType::URI(name.try_into().unwrap())
        } else {
            rcgen::SanType::DnsName(name.try_into().unwrap())
        }];
        // The Common Name says something else: only subjectAltNames count.
        params
            .distinguished_name
            .push(DnType::CommonName, "not-the-key-name");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        format!("{}{}", cert.pem(), key.serialize_pem())
    }

    /// A client certificate with the Common Name `cn` and the subjectAltNames `sans`
    /// (any kind, or none), as the PEM of the certificate and its key.
    pub(crate) fn client_with(&self, cn: &str, sans: Vec<rcgen::SanType>) -> String {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = sans;
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        format!("{}{}", cert.pem(), key.serialize_pem())
    }
}

/// A server with TLS and mutual TLS, and the CA of its client certificates.
pub(crate) struct Setup {
    pub(crate) server: TestServer,
    pub(crate) server_cert: String,
    pub(crate) clients: Ca,
}

/// A server with TLS, `client_ca` = a fresh CA, and the given keys and `[tls]` lines.
pub(crate) async fn setup(tls_extra: &str, keys: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let clients = Ca::new("auditrail test clients");
    let server_cert = write_tls_files(dir.path(), &clients);
    let config = mtls_config(dir.path(), tls_extra, keys);
    Setup {
        server: start_with(dir, config).await,
        server_cert,
        clients,
    }
}

/// The config of [`setup`]: the files of [`write_tls_files`] in `dir`.
pub(crate) fn mtls_config(dir: &Path, tls_extra: &str, keys: &str) -> ServerConfig {
    let path = |f: &str| dir.join(f).display().to_string();
    config_from(
        dir,
        &format!(
            "{keys}\n{STORE}[tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\n{tls_extra}\n",
            path("server.crt"),
            path("server.key"),
            path("clients-ca.pem"),
        ),
    )
}

/// Writes the server certificate and key and the client CA; the server certificate.
pub(crate) fn write_tls_files(dir: &Path, clients: &Ca) -> String {
    let server = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.join("server.crt"), server.cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), server.key_pair.serialize_pem()).unwrap();
    std::fs::write(dir.join("clients-ca.pem"), clients.pem()).unwrap();
    server.cert.pem()
}

impl Setup {
    /// A client that trusts the server and presents `identity` (PEM cert + key).
    pub(crate) fn client(&self, identity: Option<String>) -> reqwest::Client {
        let root = reqwest::Certificate::from_pem(self.server_cert.as_bytes()).unwrap();
        let mut b = reqwest::Client::builder()
            .add_root_certificate(root)
            .resolve("localhost", self.server.running.local_addr());
        if let Some(pem) = identity {
            b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
        }
        b.build().unwrap()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        let port = self.server.running.local_addr().port();
        format!("https://localhost:{port}{path}")
    }

    /// The answer to a one-event batch with `routing_key`: status and body, or the
    /// connection error.
    pub(crate) async fn post(
        &self,
        client: &reqwest::Client,
        seq: u64,
        routing_key: &str,
        bearer: Option<&str>,
    ) -> Result<(u16, String), reqwest::Error> {
        let mut req = client
            .post(self.url("/v1/events"))
            .header("content-type", "application/x-ndjson")
            .body(ndjson(&[event_with(
                "node-mtls",
                seq,
                "generic",
                Some(routing_key),
            )]));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        let resp = req.send().await?;
        Ok((resp.status().as_u16(), resp.text().await?))
    }
}
