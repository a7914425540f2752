//! A `[tls]` PEM file that cannot be used is refused saying what is wrong in words:
//! `tls.key` naming the certificate file (a common swap) said "no items found", and a
//! certificate chain cut short listed the bytes of its marker ("missing section end
//! marker: [67, 69, 82, ...]"). Now: no PEM private key in the file; a section not
//! closed, naming the missing END line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use std::path::Path;

use server_support::*;

async fn refusal(dir: &Path, cert: &str, key: &str) -> String {
    let tls = format!(
        "{STORE}[tls]\ncert = {:?}\nkey = {:?}\n",
        dir.join(cert).display().to_string(),
        dir.join(key).display().to_string()
    );
    match auditrail_eventserver::server::start(config_from(dir, &tls)).await {
        Ok(_) => panic!("the server started with {cert} and {key}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_file_without_a_key_and_a_chain_cut_short_are_said_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let pair = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let other = rcgen::generate_simple_self_signed(vec!["ca".into()]).unwrap();
    std::fs::write(dir.path().join("s.crt"), pair.cert.pem()).unwrap();
    std::fs::write(dir.path().join("s.key"), pair.key_pair.serialize_pem()).unwrap();
    let cut: String = other
        .cert
        .pem()
        .lines()
        .take(3)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.path().join("chain-cut.pem"), pair.cert.pem() + &cut).unwrap();

    let err = refusal(dir.path(), "s.crt", "s.crt").await;
    assert!(
        err.contains(": no PEM private key (PKCS#8, PKCS#1 or SEC1) in the file"),
        "{err}"
    );
    let err = refusal(dir.path(), "chain-cut.pem", "s.key").await;
    assert!(
        err.contains(
            "a PEM section is not closed: no \"-----END CERTIFICATE-----\" line after its \
             \"-----BEGIN CERTIFICATE-----\""
        ),
        "{err}"
    );
    assert!(!err.contains("[67, 69"), "{err}");
}
