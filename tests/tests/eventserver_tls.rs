//! TLS: a server with a self-signed certificate (made here with rcgen). A node that
//! trusts it through `ca_file` delivers; a node without it is refused (certificate
//! error, retryable: nothing is stored and nothing is lost).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::es_support;

use std::sync::Arc;

use auditrail::target_eventserver::{EventServerConfig, EventServerTarget};
use auditrail::{Target, TargetError};
use es_support::{eventserver_target, node_events, ServerProcess};

fn events(first: u64, n: u64) -> Vec<Arc<auditrail::Event>> {
    node_events("tls-node", first, n)
}

fn target(
    url: &str,
    ca: Option<&std::path::Path>,
    trust_all: bool,
    dir: &std::path::Path,
) -> EventServerTarget {
    let mut c = EventServerConfig::new(url);
    c.spool = false;
    c.ca_file = ca.map(Into::into);
    c.trust_all_certificates = trust_all;
    eventserver_target(c, "tls-node", &dir.join("run")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_file_trusts_a_self_signed_server_and_nothing_else_does() {
    let root = tempfile::tempdir().unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (crt, key) = (
        root.path().join("server.crt"),
        root.path().join("server.key"),
    );
    std::fs::write(&crt, cert.cert.pem()).unwrap();
    std::fs::write(&key, cert.key_pair.serialize_pem()).unwrap();
    let config = root.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "[tls]\ncert = \"{}\"\nkey = \"{}\"\n\n[[destinations]]\ntype = \"store\"\npath = \"{}\"\n",
            crt.display(),
            key.display(),
            root.path().join("server/store").display()
        ),
    )
    .unwrap();
    let server = tokio::task::spawn_blocking({
        let (d, c) = (root.path().join("server"), config.clone());
        move || ServerProcess::start(&d, Some(&c))
    })
    .await
    .unwrap();
    assert!(server.url.starts_with("https://"), "{}", server.url);

    // Without the CA: refused by certificate verification, retryable, nothing stored.
    let mut untrusting = target(&server.url, None, false, root.path());
    match untrusting.send(&events(1, 3)).await {
        Err(TargetError::Retryable { message, .. }) => {
            assert!(message.to_lowercase().contains("certificate"), "{message}")
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
    assert!(server.stored().is_empty());

    // With ca_file: delivered.
    let mut trusting = target(&server.url, Some(&crt), false, root.path());
    let batch = events(1, 5);
    trusting.send(&batch).await.unwrap();
    let stored: Vec<_> = server.stored().into_iter().map(|(_, e)| e.id).collect();
    assert_eq!(stored.len(), 5);
    assert!(batch.iter().all(|e| stored.contains(&e.id)));

    // trust_all_certificates (logged as an error) also connects, without the CA.
    let mut careless = target(&server.url, None, true, root.path());
    careless.send(&events(6, 2)).await.unwrap();
    assert_eq!(server.stored().len(), 7);
}
