//! The server signs with `<data dir>/signing.key`, generated owner-only (0600) on the
//! first start and reused after; or with the key file named by `signing_key`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use auditrail_integrity::{PublicKey, Receipt, Signer};
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_data_dir_gets_an_owner_only_key_that_survives_a_restart() {
    let s = start(STORE).await;
    let data = s.dir.path().join("data");
    let secret = data.join("signing.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let public = PublicKey::read_file(&data.join("signing.pub")).unwrap();
    assert_eq!(Signer::load(&secret).unwrap().public_key(), &public);
    let dir = s.dir;
    s.running.shutdown().await;

    // Restarted on the same data dir: the same key signs.
    let config = config_from(dir.path(), STORE);
    let s = start_with(dir, config).await;
    let (status, _, body) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 200, "{body}");
    let r: Receipt = serde_json::from_value(body["receipt"].clone()).unwrap();
    assert_eq!(r.signature_valid(&public), Some(true));
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_signing_key_is_used_and_none_is_generated() {
    let keys = tempfile::tempdir().unwrap();
    let own = Signer::from_seed([7; 32]);
    let path = keys.path().join("server.key");
    std::fs::write(&path, format!("ed25519-secret:{}\n", hex_seed([7; 32]))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config_from(
        dir.path(),
        &format!("signing_key = {:?}\n{STORE}", path.display().to_string()),
    );
    let s = start_with(dir, config).await;
    assert!(!s.dir.path().join("data/signing.key").exists());
    let (status, _, body) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 200, "{body}");
    let r: Receipt = serde_json::from_value(body["receipt"].clone()).unwrap();
    assert_eq!(
        r.key.as_deref(),
        Some(own.public_key().to_string().as_str())
    );
    assert_eq!(r.signature_valid(own.public_key()), Some(true));
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_configured_key_stops_the_start_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.key");
    let config = config_from(
        dir.path(),
        &format!("signing_key = {:?}\n{STORE}", missing.display().to_string()),
    );
    let err = auditrail_eventserver::server::start(config)
        .await
        .expect_err("start must fail");
    assert!(err.to_string().contains("nope.key"), "{err}");
}

fn hex_seed(seed: [u8; 32]) -> String {
    seed.iter().map(|b| format!("{b:02x}")).collect()
}
