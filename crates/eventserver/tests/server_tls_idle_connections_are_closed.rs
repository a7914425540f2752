//! A TLS connection that completes its handshake and then sends nothing is closed by
//! the server after `header_read_timeout_ms` (before, it stayed open for ever and such
//! connections exhausted file descriptors before any key was checked).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use auditrail_testkit::server::ServerProcess;
use rustls::pki_types::{CertificateDer, ServerName};

#[test]
fn a_tls_connection_idle_after_its_handshake_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let c = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.path().join("server.crt"), c.cert.pem()).unwrap();
    std::fs::write(dir.path().join("server.key"), c.key_pair.serialize_pem()).unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "header_read_timeout_ms = 300\n[tls]\ncert = {:?}\nkey = {:?}\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
            dir.path().join("server.crt").display().to_string(),
            dir.path().join("server.key").display().to_string(),
        ),
    )
    .unwrap();
    let server = ServerProcess::start(&dir.path().join("data"), Some(&config));

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(c.cert.der().to_vec()))
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut tls =
        rustls::ClientConnection::new(Arc::new(client), ServerName::try_from("localhost").unwrap())
            .unwrap();
    let mut sock = TcpStream::connect(&server.addr).unwrap();
    while tls.is_handshaking() {
        tls.complete_io(&mut sock).unwrap();
    }
    // Far above the configured timeout: a bound for a broken server, not a measure.
    sock.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut stream = rustls::Stream::new(&mut tls, &mut sock);
    let mut got = Vec::new();
    match stream.read_to_end(&mut got) {
        Ok(_) => {}
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof
            ) => {}
        Err(e) => panic!("the server did not close the idle TLS connection: {e}"),
    }
    assert!(got.is_empty(), "{got:?}");
}
