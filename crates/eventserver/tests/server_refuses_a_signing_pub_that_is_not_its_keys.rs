//! `<data dir>/signing.pub` is the key `auditrail verify DATA` trusts. A server whose
//! secret key and `signing.pub` are not halves of one key (or whose `signing.pub`
//! holds no key) refuses to start, naming both files, and overwrites neither: which
//! one is wrong is the operator's finding, not the server's guess. Removing the wrong
//! `signing.pub` lets the server write it again from the key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use auditrail_integrity::{PublicKey, Signer};
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signing_pub_of_another_key_is_refused_and_kept() {
    let s = start(STORE).await;
    let dir = s.dir;
    s.running.shutdown().await;
    let data = dir.path().join("data");
    let own = *Signer::load(&data.join("signing.key"))
        .unwrap()
        .public_key();
    let other = Signer::from_seed([9; 32]);
    let stray = format!("{}\n", other.public_key());
    std::fs::write(data.join("signing.pub"), &stray).unwrap();

    let err = auditrail_eventserver::server::start(config_from(dir.path(), STORE))
        .await
        .expect_err("a mismatched signing.pub must refuse the start")
        .to_string();
    for needle in [
        "signing.key".to_string(),
        "signing.pub".to_string(),
        own.to_string(),
        other.public_key().to_string(),
    ] {
        assert!(err.contains(&needle), "names {needle}: {err}");
    }
    assert_eq!(
        std::fs::read_to_string(data.join("signing.pub")).unwrap(),
        stray
    );

    // The operator finds signing.key the right one and removes the stray file.
    std::fs::remove_file(data.join("signing.pub")).unwrap();
    let config = config_from(dir.path(), STORE);
    let s = start_with(dir, config).await;
    assert_eq!(
        PublicKey::read_file(&data.join("signing.pub")).unwrap(),
        own
    );
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signing_pub_holding_no_key_is_refused_naming_it() {
    let s = start(STORE).await;
    let dir = s.dir;
    s.running.shutdown().await;
    let public = dir.path().join("data/signing.pub");
    for content in ["", "garbage\n"] {
        std::fs::write(&public, content).unwrap();
        let err = auditrail_eventserver::server::start(config_from(dir.path(), STORE))
            .await
            .expect_err("a signing.pub holding no key must refuse the start")
            .to_string();
        assert!(err.contains(&public.display().to_string()), "{err}");
        assert_eq!(std::fs::read_to_string(&public).unwrap(), content);
    }
}
