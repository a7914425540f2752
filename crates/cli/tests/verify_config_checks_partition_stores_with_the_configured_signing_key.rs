//! `auditrail verify --config server.toml` of a storing server configured with
//! `signing_key = FILE` (docs/scale-out.md: the group's key; no `signing.pub` is written
//! then) checks its partition stores with the public half of that key, the one `keys
//! export --config` prints, and says so. Before, it found no key ("key: none
//! (none: consistency only)") and passed a partition store swapped for one signed with
//! another key.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;

use std::path::Path;
use std::process::Command;

use kafka_support::{
    brokers, create_topic, produce_events, serve_until_stored, shared_key, storing_config, unique,
    verify_in,
};

#[test]
fn verify_config_uses_the_configured_signing_key_and_names_a_store_signed_by_another() {
    let brokers = brokers();
    let topic = unique("vkey");
    create_topic(&brokers, &topic, 1);
    produce_events(&brokers, &topic, 1, 5, 49);

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
    serve_until_stored(d, "a.toml", &root_a, 5);
    serve_until_stored(d, "b.toml", &root_b, 5);
    assert!(
        !d.join("a-data/signing.pub").exists(),
        "the setup of docs/scale-out.md"
    );

    let (code, report) = verify_in(d, &["--config", "a.toml"]);
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
    let (code, report) = verify_in(d, &["--config", "a.toml"]);
    assert_eq!(code, 1, "{report:#}");
    let problems = report["stores"][0]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["message"].as_str().unwrap().contains(public.as_str())),
        "the trusted key named: {report:#}"
    );
}
