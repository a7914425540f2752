//! Mutual TLS: a verified client certificate with no DNS or URI subjectAltName (its name
//! only in the Common Name, as older PKIs issue them, or only an IP address) was
//! answered 401 "missing `Authorization: Bearer <key>` (or a client certificate)",
//! sending the operator to look for a certificate that was sent. The 401 now says the
//! certificate has no DNS or URI subjectAltName and names what it has.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::pki::setup;

const KEYS: &str = "[[keys]]\nid = \"node-a\"\nclient_cert_subject = \"node-a.example.org\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_401_says_the_certificate_has_no_dns_or_uri_name_and_what_it_has() {
    let s = setup("", KEYS).await;
    let ip = rcgen::SanType::IpAddress("10.0.0.7".parse().unwrap());
    for (seq, sans, has) in [
        (
            1,
            vec![],
            "it has the Common Name \"node-a.example.org\" and no subjectAltName",
        ),
        (
            2,
            vec![ip],
            "it has the Common Name \"node-a.example.org\" and the subjectAltNames IP:10.0.0.7",
        ),
    ] {
        let client = s.client(Some(s.clients.client_with("node-a.example.org", sans)));
        let (status, text) = s.post(&client, seq, "svc-a", None).await.unwrap();
        assert_eq!(status, 401, "{text}");
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        let text = answer["message"].as_str().unwrap();
        assert!(
            text.contains("the client certificate has no DNS or URI subjectAltName"),
            "{text}"
        );
        assert!(text.contains(has), "{text}");
        assert!(!text.contains("(or a client certificate)"), "{text}");
    }
}
