//! `auditrail verify --config server.toml` of a storing server configured with
//! `signing_key = FILE` (docs/scale-out.md: the group's key; no `signing.pub` is written
//! then) checks its partition stores with the public half of that key, the one `keys
//! export --config` prints, and says so. Before, it found no key ("key: none
//! (none: consistency only)") and passed a partition store swapped for one signed with
//! another key.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use kafka_support::{
    brokers, create_topic, id_counts, produce, shared_key, storing_config, unique,
};
use serve_support::{event_line, new_id, start};

/// Runs a storing server on `config` in `dir` until its partition stores under `root`
/// hold `n` events, then stops it.
fn store_all(dir: &Path, config: &str, root: &Path, n: usize) {
    let server = start(dir, &["--config", config]);
    let until = Instant::now() + Duration::from_secs(60);
    while id_counts(root).len() < n {
        assert!(Instant::now() < until, "not stored: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(server.terminate(), 0);
}

fn verify_config(dir: &Path, config: &str) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .current_dir(dir)
        .args(["verify", "--config", config, "--json"])
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

#[test]
fn verify_config_uses_the_configured_signing_key_and_names_a_store_signed_by_another() {
    let brokers = brokers();
    let topic = unique("vkey");
    create_topic(&brokers, &topic, 1);
    let values: Vec<Vec<u8>> = (1..=5u64)
        .map(|n| event_line(&new_id(n, 49), "node-1", n).into_bytes())
        .collect();
    let records: Vec<(&str, Option<&[u8]>)> = values
        .iter()
        .map(|v| ("node-1", Some(v.as_slice())))
        .collect();
    produce(&brokers, &topic, &records);

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = shared_key(d);
    // Another server of another group reads the same topic with a key of its own.
    let other_key = d.join("other.key");
    std::fs::write(&other_key, format!("ed25519-secret:{}\n", "5a".repeat(32))).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&other_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let (root_a, root_b) = (d.join("a-parts"), d.join("b-parts"));
    let a = storing_config("a-data", &key, &brokers, &topic, &unique("ga"), &root_a);
    let b = storing_config(
        "b-data",
        &other_key,
        &brokers,
        &topic,
        &unique("gb"),
        &root_b,
    );
    std::fs::write(d.join("a.toml"), a).unwrap();
    std::fs::write(d.join("b.toml"), b).unwrap();
    store_all(d, "a.toml", &root_a, 5);
    store_all(d, "b.toml", &root_b, 5);
    assert!(
        !d.join("a-data/signing.pub").exists(),
        "the setup of docs/scale-out.md"
    );

    let (code, report) = verify_config(d, "a.toml");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["trustedKey"], public.as_str(), "{report:#}");
    let source = report["keySource"].as_str().unwrap();
    assert!(source.contains("group-signing.key"), "{source}");

    // A's partition store replaced by B's: signed by another key.
    let store = |root: &Path| root.join(&topic).join("0").join("store");
    std::fs::remove_dir_all(store(&root_a)).unwrap();
    let copied = Command::new("cp")
        .arg("-a")
        .arg(store(&root_b))
        .arg(store(&root_a))
        .status()
        .unwrap();
    assert!(copied.success());
    let (code, report) = verify_config(d, "a.toml");
    assert_eq!(code, 1, "{report:#}");
    let problems = report["stores"][0]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["message"].as_str().unwrap().contains(public.as_str())),
        "the trusted key named: {report:#}"
    );
}
