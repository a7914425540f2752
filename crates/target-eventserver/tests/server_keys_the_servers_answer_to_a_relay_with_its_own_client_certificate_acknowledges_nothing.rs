//! With `server_keys` set and mutual TLS, the configured server's genuine `200`, to a
//! relay that terminates the node's TLS and posts the node's nonce and body on with a
//! client certificate of its own whose key may write those events, acknowledges
//! nothing. The server stores the events under the relay's key id; the answer's
//! `answerSig` (`auditrail-answer-v3`) binds the SHA-256 of the client certificate the
//! server saw, the relay's, so it does not verify for the node's request: the events
//! stay spooled (a direct `send` fails retryably, naming the relay's url), and the
//! server itself acknowledges the node's own requests. Real server process, real TLS
//! with certificates made here (rcgen), real sockets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::Target;
use auditrail_target_eventserver::EventServerTarget;
use common::mtls::{node_config, serve_tls, Pki};
use common::{ctx, events, pending, server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_to_the_relays_certificate_keeps_the_events() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(&dir.path().join("pki"));
    let node_files = pki.client_files("node", "node-a.example.org");
    let relay_identity = pki.client("relay.example.org");

    // Both keys may write every routing key.
    let data_dir = dir.path().join("server");
    let config = common::server_config(
        &data_dir,
        &format!(
            "[[destinations]]\ntype = \"store\"\npath = \"store\"\n\n\
             [[keys]]\nid = \"node-a\"\nclient_cert_subject = \"node-a.example.org\"\n\n\
             [[keys]]\nid = \"relay\"\nclient_cert_subject = \"relay.example.org\"\n\n{}",
            pki.server_tls()
        ),
    );
    let server = server::ServerProcess::start(&data_dir, Some(&config));
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let key = common::exported_key(&server.data_dir);

    let relay = serve_tls(
        common::relay_through(
            server.url.clone(),
            pki.client_presenting(&relay_identity),
            |headers, body| (common::passed_on(headers, true), body.to_vec()),
        ),
        &pki.site,
    )
    .await;

    let node = |url: &str| node_config(&pki, url, &node_files, key);
    let batch = events(5, false);
    common::a_node_configured_so_takes_no_acknowledgement(
        node(&relay),
        dir.path(),
        &batch,
        &["does not verify under the key it names for this request"],
    )
    .await;
    common::assert_stored_once_under(&server.data_dir, &batch, "relay");

    // The server itself, with the node's certificate: its answers acknowledge.
    let mut t = EventServerTarget::new(node(&server.url), &ctx(dir.path(), "es")).unwrap();
    t.flush().await.unwrap();
    assert_eq!(pending(&t), 0);
    assert_eq!(t.metrics().sent_events, batch.len() as u64);
    t.shutdown().await.unwrap();
}
