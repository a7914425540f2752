//! With `server_keys` set and mutual TLS, the configured server's genuine refusal,
//! fetched by a relay that terminates the node's TLS and posts the node's nonce and
//! body on with a client certificate of its own, gives up no events. The relay's
//! certificate maps to a key that owns none of the events' routing keys, so the
//! server answers a signed `403` naming an event: were it taken, the node would
//! dead-letter events its own key may write. The signature binds the SHA-256 of the
//! client certificate the server saw, the relay's, so it does not verify for the
//! node's request: the events stay spooled (a direct `send` fails retryably, naming
//! the relay's url) and the server itself stores each once when the node reaches it.
//! Real server process, real TLS with certificates made here (rcgen), real sockets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use crate::common;

use auditrail_core::Target;
use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};
use common::{ctx, events, pending, server};
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};

/// A client certificate of `ca` for the subjectAltName `name`: its PEM and its key's.
fn client_cert(ca: &(rcgen::Certificate, KeyPair), name: &str) -> (String, String) {
    let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.0, &ca.1).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// Writes `name`.crt and `name`.key into `dir`; their paths.
fn write_pair(dir: &Path, name: &str, (cert, key): &(String, String)) -> (String, String) {
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
async fn serve_tls(app: axum::Router, (cert, key): &(String, String)) -> String {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_to_the_relays_certificate_keeps_the_events() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    std::fs::create_dir_all(&pki).unwrap();
    let site = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let site = (site.cert.pem(), site.key_pair.serialize_pem());
    let (site_crt, site_key) = write_pair(&pki, "site", &site);
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "auditrail test clients");
    let ca_key = KeyPair::generate().unwrap();
    let ca = (ca_params.self_signed(&ca_key).unwrap(), ca_key);
    let client_ca = pki.join("clients-ca.pem");
    std::fs::write(&client_ca, ca.0.pem()).unwrap();
    let (node_crt, node_key) = write_pair(&pki, "node", &client_cert(&ca, "node-a.example.org"));
    let relay_identity = client_cert(&ca, "relay.example.org");

    // The node's key owns every routing key; the relay's only one no event carries.
    let data_dir = dir.path().join("server");
    let config = common::server_config(
        &data_dir,
        &format!(
            "[[destinations]]\ntype = \"store\"\npath = \"store\"\n\n\
             [[keys]]\nid = \"node-a\"\nclient_cert_subject = \"node-a.example.org\"\n\n\
             [[keys]]\nid = \"relay\"\nclient_cert_subject = \"relay.example.org\"\n\
             routing_keys = [\"relay-only\"]\n\n\
             [tls]\ncert = {site_crt:?}\nkey = {site_key:?}\nclient_ca = {:?}\n",
            client_ca.display().to_string()
        ),
    );
    let server = server::ServerProcess::start(&data_dir, Some(&config));
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let key = common::exported_key(&server.data_dir);

    let to_server = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(site.0.as_bytes()).unwrap())
        .identity(
            reqwest::Identity::from_pem(
                format!("{}{}", relay_identity.0, relay_identity.1).as_bytes(),
            )
            .unwrap(),
        )
        .build()
        .unwrap();
    let relay = serve_tls(
        common::relay_through(server.url.clone(), to_server, |headers, body| {
            (common::passed_on(headers, true), body.to_vec())
        }),
        &site,
    )
    .await;

    let node = |url: &str| {
        let mut c: EventServerConfig = toml::from_str(&format!(
            "url = {url:?}\nca_file = {site_crt:?}\nclient_cert = {node_crt:?}\n\
             client_key = {node_key:?}\nserver_keys = [\"{key}\"]\n"
        ))
        .unwrap();
        let quick = common::quick_spool_config(url.to_owned());
        c.backoff_initial_ms = quick.backoff_initial_ms;
        c.backoff_max_ms = quick.backoff_max_ms;
        c.request_timeout_ms = quick.request_timeout_ms;
        c.shutdown_drain_ms = quick.shutdown_drain_ms;
        c
    };
    let batch = events(6, true);
    common::a_node_configured_so_gives_up_nothing(
        node(&relay),
        dir.path(),
        &batch,
        "does not verify under the key it names for this request",
    )
    .await;

    // The server itself, with the node's certificate: every event stored once (the
    // node's key owns their routing keys).
    let mut t = EventServerTarget::new(node(&server.url), &ctx(dir.path(), "es")).unwrap();
    t.flush().await.unwrap();
    assert_eq!(pending(&t), 0);
    t.shutdown().await.unwrap();
    let stored = server.stored();
    for e in &batch {
        assert_eq!(
            stored.iter().filter(|(_, s)| s.id == e.id).count(),
            1,
            "{} stored once",
            e.id
        );
    }
}
