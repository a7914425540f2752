//! Mutual TLS: with `[tls] client_ca`, a node authenticates with a client certificate
//! signed by that CA. The certificate's subjectAltName selects the `[[keys]]` entry
//! whose `client_cert_subject` it is; that key's topic and routing-key ownership apply
//! as for a bearer key and its id is recorded with the events. With the default
//! `client_auth = "required"`, a certificate of another CA, an expired one, or none
//! gets no connection at all; a certificate of the CA that no key names gets 401.
//! Certificates are generated here (rcgen); real TLS over a real socket.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

use server_support::pki::{setup, Ca};

const KEYS: &str = "[[keys]]\nid = \"node-a\"\nclient_cert_subject = \"node-a.example.org\"\n\
                    routing_keys = [\"svc-a\"]\n\
                    [[keys]]\nid = \"node-u\"\n\
                    client_cert_subject = \"spiffe://example.org/node/u\"\n\
                    [[keys]]\nid = \"bearer-only\"\nsecret = \"bearer-secret-1\"\n\
                    [[stats_keys]]\nid = \"ops\"\nclient_cert_subject = \"ops.example.org\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_client_certificates_authenticate_as_their_keys() {
    let s = setup("", KEYS).await;
    let node_a = s.client(Some(s.clients.client("node-a.example.org", false)));
    assert_eq!(s.post(&node_a, 1, "svc-a", None).await.unwrap().0, 200);
    let (status, text) = s.post(&node_a, 2, "svc-b", None).await.unwrap();
    assert_eq!(status, 403, "the mapped key's ownership applies: {text}");

    // A URI subjectAltName (SPIFFE-style) names a key too.
    let node_u = s.client(Some(s.clients.client("spiffe://example.org/node/u", false)));
    assert_eq!(s.post(&node_u, 3, "svc-x", None).await.unwrap().0, 200);

    // A certificate of the CA that names no key: 401, saying which names it carries.
    let unmapped = s.client(Some(s.clients.client("node-z.example.org", false)));
    let (status, text) = s.post(&unmapped, 4, "svc-a", None).await.unwrap();
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("node-z.example.org"), "{text}");

    // A certificate and a bearer key that are two different keys: refused.
    let (status, text) = s
        .post(&node_a, 5, "svc-a", Some("bearer-secret-1"))
        .await
        .unwrap();
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("different keys"), "{text}");

    // No connection at all: another CA's certificate, an expired one, none.
    let foreign = s.client(Some(
        Ca::new("another CA").client("node-a.example.org", false),
    ));
    assert!(s.post(&foreign, 6, "svc-a", None).await.is_err());
    let expired = s.client(Some(s.clients.client("node-a.example.org", true)));
    assert!(s.post(&expired, 7, "svc-a", None).await.is_err());
    let anonymous = s.client(None);
    assert!(s
        .post(&anonymous, 8, "svc-a", Some("bearer-secret-1"))
        .await
        .is_err());

    // Only the two accepted events are stored, with the id of the key each mapped to.
    let mut key_ids: Vec<String> = stored_records(&s.server.store())
        .iter()
        .map(|r| r["keyId"].as_str().unwrap().to_owned())
        .collect();
    key_ids.sort();
    assert_eq!(key_ids, ["node-a", "node-u"]);

    // A stats key by certificate reads the events; an event key's certificate does not.
    let ops = s.client(Some(s.clients.client("ops.example.org", false)));
    let recent = ops.get(s.url("/v1/recent")).send().await.unwrap();
    assert_eq!(recent.status(), 200);
    let recent = node_a.get(s.url("/v1/recent")).send().await.unwrap();
    assert_eq!(recent.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_client_certificates_leave_bearer_keys_working() {
    let s = setup("client_auth = \"optional\"", KEYS).await;
    let anonymous = s.client(None);
    let (status, text) = s
        .post(&anonymous, 1, "svc-a", Some("bearer-secret-1"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{text}");
    let (status, _) = s.post(&anonymous, 2, "svc-a", None).await.unwrap();
    assert_eq!(status, 401);
    let node_a = s.client(Some(s.clients.client("node-a.example.org", false)));
    assert_eq!(s.post(&node_a, 3, "svc-a", None).await.unwrap().0, 200);
    // Optional does not mean unchecked: a certificate of another CA is still refused.
    let foreign = s.client(Some(
        Ca::new("another CA").client("node-a.example.org", false),
    ));
    assert!(s.post(&foreign, 4, "svc-a", None).await.is_err());
    assert_eq!(stored_records(&s.server.store()).len(), 2);
}
