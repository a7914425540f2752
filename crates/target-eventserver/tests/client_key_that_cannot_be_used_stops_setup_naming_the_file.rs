//! A `client_key` that cannot be used (a PEM file cut short, or the key of another
//! certificate) stops the target's setup with an error naming `client_key`, the file
//! and what is wrong, not reqwest's bare "builder error" (docs/targets/eventserver.md:
//! "a file that cannot be read or parsed stops the target's setup, naming it").
//! Real files, certificates generated here (rcgen).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use auditrail_core::NodeId;
use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};

/// A certificate for `node-a` and its key, both PEM.
fn cert_and_key() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["node-a".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

/// Builds the target with `client_cert`/`client_key` and returns its setup error.
fn setup_error(dir: &Path, cert_pem: &str, key_pem: &str) -> String {
    let cert = dir.join("node.crt");
    let key = dir.join("node.key");
    std::fs::write(&cert, cert_pem).unwrap();
    std::fs::write(&key, key_pem).unwrap();
    let mut c = EventServerConfig::new("https://127.0.0.1:9");
    c.spool = false;
    c.client_cert = Some(cert.into());
    c.client_key = Some(key.into());
    let ctx = auditrail_core::BuildContext::new(
        NodeId::new("node-a").unwrap(),
        "central",
        dir.join("run"),
        dir.join("run").join("deadletter"),
        tokio::runtime::Handle::current(),
    );
    match EventServerTarget::new(c, &ctx) {
        Ok(_) => panic!("the target was set up with an unusable client_key"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn a_key_cut_short_is_named_as_the_unusable_client_key() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = cert_and_key();
    // The first line of the PEM body only, END line kept: valid PEM, not a whole key.
    let cut: String = key
        .lines()
        .take(2)
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        + "-----END PRIVATE KEY-----\n";
    let e = setup_error(dir.path(), &cert, &cut);
    let path = dir.path().join("node.key").display().to_string();
    assert!(e.contains("`client_key`") && e.contains(&path), "{e}");
    assert!(e.contains("cannot be used"), "{e}");
    assert!(!e.contains("builder error"), "{e}");
}

#[tokio::test]
async fn the_key_of_another_certificate_is_named_as_not_fitting_client_cert() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = cert_and_key();
    let (_, other_key) = cert_and_key();
    let e = setup_error(dir.path(), &cert, &other_key);
    let key = dir.path().join("node.key").display().to_string();
    let cert = dir.path().join("node.crt").display().to_string();
    assert!(e.contains("`client_key`") && e.contains(&key), "{e}");
    assert!(e.contains("`client_cert`") && e.contains(&cert), "{e}");
    assert!(e.contains("is not the key of"), "{e}");
}
