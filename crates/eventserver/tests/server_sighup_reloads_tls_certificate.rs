//! SIGHUP reads the TLS certificate and key files again (a renewed certificate): new
//! connections get the new certificate, without a restart and without a lost event.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use auditrail_testkit::server::{wait_until, ServerProcess};

fn certificate(dir: &Path) -> (String, String) {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.join("server.crt"), c.cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), c.key_pair.serialize_pem()).unwrap();
    (c.cert.pem(), c.key_pair.serialize_pem())
}

/// A client that trusts only `pem` and opens a new connection for every request.
fn client(pem: &str, server: &ServerProcess) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .resolve("localhost", server.addr.parse().unwrap())
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn post(client: &reqwest::blocking::Client, server: &ServerProcess, seq: u64) -> bool {
    let port = server.addr.rsplit(':').next().unwrap();
    let event = serde_json::json!({
        "id": auditrail_core::EventId::new().to_string(), "timestamp": "2026-11-25T16:55:49.123Z",
        "topic": "generic", "node": "node-tls", "seq": seq, "message": {"msgType": "login"}});
    client
        .post(format!("https://localhost:{port}/v1/events"))
        .header("content-type", "application/x-ndjson")
        .body(event.to_string())
        .send()
        .is_ok_and(|r| r.status() == 200)
}

#[test]
fn sighup_serves_the_renewed_certificate_to_new_connections() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let (old, _) = certificate(dir.path());
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "[tls]\ncert = {:?}\nkey = {:?}\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n",
            dir.path().join("server.crt").display().to_string(),
            dir.path().join("server.key").display().to_string(),
        ),
    )
    .unwrap();
    let server = ServerProcess::start(&dir.path().join("data"), Some(&config));
    let old_client = client(&old, &server);
    assert!(post(&old_client, &server, 1));

    let (new, _) = certificate(dir.path());
    let new_client = client(&new, &server);
    assert!(
        !post(&new_client, &server, 2),
        "the new certificate is served before the reload"
    );
    let pid = server.pid().to_string();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    let mut seq = 2;
    assert!(
        wait_until(Duration::from_secs(30), || {
            seq += 1;
            post(&new_client, &server, seq)
        }),
        "the renewed certificate was never served"
    );
    assert!(
        !post(&old_client, &server, 100),
        "the old certificate is still served"
    );
    assert_eq!(server.stored().len(), 2);
}
