//! Mutual TLS: a certificate's DNS subjectAltName selects a key whatever its ASCII case
//! (RFC 5280 §7.2, RFC 4343): `NODE-A.Example.ORG` was answered 401 against
//! `client_cert_subject = "node-a.example.org"`, a refusal the node takes as final
//! (dead letters). A URI compares its scheme and host without case and its path exactly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::pki::setup;

const KEYS: &str = "[[keys]]\nid = \"node-a\"\nclient_cert_subject = \"node-a.example.org\"\n\
                    [[keys]]\nid = \"node-u\"\n\
                    client_cert_subject = \"spiffe://example.org/node/u\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_names_match_without_case_and_uri_paths_with_it() {
    let s = setup("", KEYS).await;
    for (seq, name) in [
        (1, "NODE-A.Example.ORG"),
        (2, "node-a.example.org"),
        (3, "SPIFFE://Example.ORG/node/u"),
    ] {
        let client = s.client(Some(s.clients.client(name, false)));
        let (status, text) = s.post(&client, seq, "svc-a", None).await.unwrap();
        assert_eq!(status, 200, "{name}: {text}");
    }
    // The path of a URI is not a host name: its case counts.
    let client = s.client(Some(s.clients.client("spiffe://example.org/Node/U", false)));
    let (status, text) = s.post(&client, 4, "svc-a", None).await.unwrap();
    assert_eq!(status, 401, "{text}");
}
