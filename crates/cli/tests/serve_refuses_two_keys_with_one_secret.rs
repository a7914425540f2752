//! Two `[[keys]]` with one secret (a copy-paste when a service is added) stop
//! `auditrail serve` at start, naming both entries and their ids and never the secret.
//! They were accepted without a word: every request with that secret was taken as the
//! first key, so the second key's owner was refused by rights they do not hold
//! (`403 key "a" may not write routingKey "svc-b"`) or had their events stored under the
//! first key's `keyId`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

#[test]
fn two_keys_with_one_secret_do_not_start() {
    const SECRET: &str = "same-secret-0123456789abcdef";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.toml"),
        format!(
            "data_dir = \"data\"\n\
             [[keys]]\nid = \"a\"\nsecret = \"{SECRET}\"\nrouting_keys = [\"svc-a\"]\n\
             [[keys]]\nid = \"b\"\nsecret = \"{SECRET}\"\nrouting_keys = [\"svc-b\"]\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n"
        ),
    )
    .unwrap();
    let run = common::run_within(
        dir.path(),
        &["serve", "-c", "s.toml", "--listen", "127.0.0.1:0"],
        &[],
        Duration::from_secs(20),
    );
    let ended = run.is_ok();
    let out = run.unwrap_or_else(|out| out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        ended,
        "the server started with two keys sharing a secret: {stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "s.toml: keys[1] (id \"b\") has the same secret as keys[0] (id \"a\"): a request \
             with it is always taken as key \"a\""
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains(SECRET),
        "the secret is never shown: {stderr}"
    );
    assert!(!dir.path().join("data").exists(), "nothing was created");
}
