//! `auditrail serve` checks a `[[sources]]` entry before it starts anything, and names
//! the key of what it refuses: a misspelt key, a topic name Kafka would refuse, a
//! librdkafka property that the source's guarantees rest on, no way to check its records
//! (neither `signing_keys` nor `accept_unsigned = true`), a bad or repeated signing key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn serve(dir: &std::path::Path, source: &str) -> (Option<i32>, String) {
    std::fs::write(
        dir.join("s.toml"),
        format!("data_dir = \"data\"\n[[sources]]\ntype = \"kafka\"\n{source}"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["serve", "--config", "s.toml", "--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A valid public key (RFC 8032's first test vector).
const KEY: &str = "ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

#[test]
fn each_bad_source_entry_is_refused_naming_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let good = "brokers = \"127.0.0.1:1\"\ngroup_id = \"g\"\nstore_root = \"p\"\n";
    let cases = [
        (
            format!("{good}topics = [\"a/b\"]\n"),
            "sources[0].topics[0]",
        ),
        (format!("{good}topics = []\n"), "sources[0].topics"),
        (format!("{good}topic = [\"t\"]\n"), "topic"),
        (
            format!(
                "{good}topics = [\"t\"]\n[sources.librdkafka]\n\"enable.auto.commit\" = true\n"
            ),
            "enable.auto.commit",
        ),
        (
            "brokers = \"127.0.0.1:1\"\ntopics = [\"t\"]\nstore_root = \"p\"\n".to_owned(),
            "group_id",
        ),
        // Neither keys to check records with nor `accept_unsigned = true`: said at
        // start, not found out from a dead-letter file full of every record.
        (
            format!("{good}topics = [\"t\"]\n"),
            "sources[0].signing_keys: no keys, so no record can be checked",
        ),
        (
            format!("{good}topics = [\"t\"]\naccept_unsigned = false\n"),
            "or set `accept_unsigned = true`",
        ),
        (
            format!(
                "{good}topics = [\"t\"]\n[[sources.signing_keys]]\nid = \"a\"\n\
                 public_key = \"ed25519:00\"\n"
            ),
            "sources[0].signing_keys[0].public_key",
        ),
        (
            format!(
                "{good}topics = [\"t\"]\n[[sources.signing_keys]]\nid = \"a\"\n\
                 public_key = \"{KEY}\"\n[[sources.signing_keys]]\nid = \"a\"\n\
                 public_key = \"{KEY}\"\n"
            ),
            "sources[0].signing_keys[1].id: \"a\" is named twice",
        ),
    ];
    for (entry, key) in cases {
        let (code, stderr) = serve(dir.path(), &entry);
        assert_ne!(code, Some(0), "{entry}: {stderr}");
        assert!(
            stderr.contains(key),
            "{entry}: expected {key:?} in {stderr}"
        );
        assert!(stderr.contains("s.toml"), "names the file: {stderr}");
    }
    // Nothing was created for a refused config.
    assert!(!dir.path().join("data").join("p").exists());
}
