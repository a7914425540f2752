//! A reload (SIGHUP) reads `[tls] client_ca` and the keys' `client_cert_subject`s
//! again: after the client CA is replaced, certificates of the old CA get no
//! connection and those of the new one authenticate as the reloaded keys; a reload
//! whose `client_ca` file is unusable changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::pki::{mtls_config, setup, Ca};
use server_support::*;

const BEFORE: &str = "[[keys]]\nid = \"node-a\"\nclient_cert_subject = \"node-a.example.org\"\n";
const AFTER: &str = "[[keys]]\nid = \"node-b\"\nclient_cert_subject = \"node-b.example.org\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_replaces_the_client_ca_and_the_certificate_keys() {
    let s = setup("", BEFORE).await;
    let old_a = s.client(Some(s.clients.client("node-a.example.org", false)));
    assert_eq!(s.post(&old_a, 1, "svc", None).await.unwrap().0, 200);

    // An unusable CA file: the reload is refused and the old CA keeps working.
    let dir = s.server.dir.path();
    std::fs::write(dir.join("clients-ca.pem"), "not a certificate\n").unwrap();
    let err = s
        .server
        .running
        .reload(&mtls_config(dir, "", AFTER))
        .unwrap_err()
        .to_string();
    assert!(err.contains("client_ca"), "{err}");
    let fresh_old = s.client(Some(s.clients.client("node-a.example.org", false)));
    assert_eq!(s.post(&fresh_old, 2, "svc", None).await.unwrap().0, 200);

    // A new CA and new keys.
    let new_ca = Ca::new("renewed client CA");
    std::fs::write(dir.join("clients-ca.pem"), new_ca.pem()).unwrap();
    s.server
        .running
        .reload(&mtls_config(dir, "", AFTER))
        .unwrap();
    let old_b = s.client(Some(s.clients.client("node-b.example.org", false)));
    assert!(s.post(&old_b, 3, "svc", None).await.is_err(), "old CA");
    let new_a = s.client(Some(new_ca.client("node-a.example.org", false)));
    assert_eq!(s.post(&new_a, 4, "svc", None).await.unwrap().0, 401);
    let new_b = s.client(Some(new_ca.client("node-b.example.org", false)));
    assert_eq!(s.post(&new_b, 5, "svc", None).await.unwrap().0, 200);

    let mut key_ids: Vec<String> = stored_records(&s.server.store())
        .iter()
        .map(|r| r["keyId"].as_str().unwrap().to_owned())
        .collect();
    key_ids.sort();
    assert_eq!(key_ids, ["node-a", "node-a", "node-b"]);
}
