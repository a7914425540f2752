//! HTTPS with rustls when a certificate and key are configured.

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_accepted_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert_path = dir.path().join("server.crt");
    let key_path = dir.path().join("server.key");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let config = config_from(
        dir.path(),
        &format!(
            "{STORE}[tls]\ncert = {:?}\nkey = {:?}\n",
            cert_path.display().to_string(),
            key_path.display().to_string()
        ),
    );
    let s = start_with(dir, config).await;
    assert!(s.running.url().starts_with("https://"));
    let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(root)
        .resolve("localhost", s.running.local_addr())
        .build()
        .unwrap();
    let url = format!(
        "https://localhost:{}/v1/events",
        s.running.local_addr().port()
    );
    let resp = client
        .post(&url)
        .header("content-type", "application/x-ndjson")
        .body(ndjson(&[event("n1", 1)]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(stored_ids(&s.store()).len(), 1);
    // Plain HTTP on the TLS port gets nothing.
    let plain = reqwest::Client::new()
        .post(url.replace(
            "https://localhost",
            &format!("http://{}", s.running.local_addr().ip()),
        ))
        .body("x")
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
}
