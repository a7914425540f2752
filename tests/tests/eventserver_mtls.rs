//! Mutual TLS end to end: a real `auditrail serve` with `[tls] client_ca` and a key
//! named by `client_cert_subject`, and a node's `eventserver` target with
//! `client_cert` / `client_key` (certificates made here with rcgen). The node's events
//! are stored under the key its certificate maps to; a node without a certificate gets
//! a retryable connection error and nothing is stored; an unreadable key file is a
//! setup error that names it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::es_support;

use std::path::Path;
use std::sync::Arc;

use auditrail::target_eventserver::{EventServerConfig, EventServerTarget};
use auditrail::{Target, TargetError};
use es_support::{eventserver_target, node_events, ServerProcess};
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair};

fn events(first: u64, n: u64) -> Vec<Arc<auditrail::Event>> {
    node_events("mtls-node", first, n)
}

fn target(url: &str, dir: &Path, identity: Option<(&Path, &Path)>) -> EventServerTarget {
    let mut c = EventServerConfig::new(url);
    c.spool = false;
    c.ca_file = Some(dir.join("server.crt").into());
    if let Some((cert, key)) = identity {
        c.client_cert = Some(cert.into());
        c.client_key = Some(key.into());
    }
    eventserver_target(c, "mtls-node", &dir.join("run")).unwrap()
}

/// Writes the server's certificate and key, a client CA, and a client certificate
/// for `node-7.example.org` with its key.
fn write_pki(dir: &Path) {
    let server =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    std::fs::write(dir.join("server.crt"), server.cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), server.key_pair.serialize_pem()).unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca.self_signed(&ca_key).unwrap();
    std::fs::write(dir.join("clients-ca.pem"), ca.pem()).unwrap();
    let mut client = CertificateParams::new(vec!["node-7.example.org".to_owned()]).unwrap();
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_key = KeyPair::generate().unwrap();
    let client = client.signed_by(&client_key, &ca, &ca_key).unwrap();
    std::fs::write(dir.join("node.crt"), client.pem()).unwrap();
    std::fs::write(dir.join("node.key"), client_key.serialize_pem()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_a_client_certificate_is_stored_under_its_key() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    write_pki(dir);
    let config = dir.join("server.toml");
    std::fs::write(
        &config,
        format!(
            "[tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\n\n\
             [[keys]]\nid = \"node-7\"\nclient_cert_subject = \"node-7.example.org\"\n\n\
             [[destinations]]\ntype = \"store\"\npath = {:?}\n",
            dir.join("server.crt").display().to_string(),
            dir.join("server.key").display().to_string(),
            dir.join("clients-ca.pem").display().to_string(),
            dir.join("server/store").display().to_string(),
        ),
    )
    .unwrap();
    let server = tokio::task::spawn_blocking({
        let (d, c) = (dir.join("server"), config.clone());
        move || ServerProcess::start(&d, Some(&c))
    })
    .await
    .unwrap();

    // Without a certificate: the handshake fails; retryable, nothing stored.
    let mut anonymous = target(&server.url, dir, None);
    match anonymous.send(&events(1, 3)).await {
        Err(TargetError::Retryable { .. }) => {}
        other => panic!("expected a retryable connection error, got {other:?}"),
    }
    assert!(server.stored().is_empty());

    // With it: stored, under the key the certificate maps to.
    let (cert, key) = (dir.join("node.crt"), dir.join("node.key"));
    let mut node = target(&server.url, dir, Some((&cert, &key)));
    node.send(&events(1, 5)).await.unwrap();
    let records = auditrail_testkit::store::records(&dir.join("server/store"));
    assert_eq!(records.len(), 5);
    for r in &records {
        assert_eq!(r["keyId"], "node-7", "{r}");
    }

    // A key file that is not there: a setup error naming it, before anything is sent.
    let mut c = EventServerConfig::new(&server.url);
    c.client_cert = Some(cert.clone().into());
    c.client_key = Some(dir.join("missing.key").into());
    let err = eventserver_target(c, "mtls-node", &dir.join("run2"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.key"), "{err}");
}
