//! A node whose url's scheme is not the server's: http:// to a server with `[tls]`,
//! https:// to a plain one. The request fails either way (retryable: nothing stored,
//! nothing lost), and the error says what to check, the url's scheme, instead of only
//! the client library's words ("invalid HTTP version parsed", "received corrupt
//! message of type InvalidContentType").

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::es_support;

use auditrail::target_eventserver::EventServerConfig;
use auditrail::{Target, TargetError};
use es_support::{eventserver_target, node_events, ServerProcess};

async fn refusal(url: &str, dir: &std::path::Path) -> String {
    let mut c = EventServerConfig::new(url);
    c.spool = false;
    let mut target = eventserver_target(c, "scheme-node", &dir.join("run")).unwrap();
    match target.send(&node_events("scheme-node", 1, 2)).await {
        Err(TargetError::Retryable { message, .. }) => message,
        other => panic!("{url}: expected a retryable error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_error_names_the_urls_scheme_when_the_server_speaks_the_other() {
    let root = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let (crt, key) = (
        root.path().join("server.crt"),
        root.path().join("server.key"),
    );
    std::fs::write(&crt, cert.cert.pem()).unwrap();
    std::fs::write(&key, cert.key_pair.serialize_pem()).unwrap();
    let config = root.path().join("tls.toml");
    std::fs::write(
        &config,
        format!(
            "[tls]\ncert = {crt:?}\nkey = {key:?}\n\n[[destinations]]\ntype = \"store\"\npath = {:?}\n",
            root.path().join("tls/store")
        ),
    )
    .unwrap();
    let (tls, plain) = tokio::task::spawn_blocking({
        let root = root.path().to_owned();
        move || {
            (
                ServerProcess::start(&root.join("tls"), Some(&config)),
                ServerProcess::start(&root.join("plain"), None),
            )
        }
    })
    .await
    .unwrap();
    assert!(tls.url.starts_with("https://") && plain.url.starts_with("http://"));

    let to_tls = refusal(&tls.url.replacen("https://", "http://", 1), root.path()).await;
    assert!(
        to_tls.contains("not HTTP") && to_tls.contains("must start with https://"),
        "{to_tls}"
    );
    let to_plain = refusal(&plain.url.replacen("http://", "https://", 1), root.path()).await;
    assert!(
        to_plain.contains("does not speak TLS") && to_plain.contains("must start with http://"),
        "{to_plain}"
    );
    assert!(tls.stored().is_empty() && plain.stored().is_empty());
}
