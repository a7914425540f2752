//! Helpers of the Merkle proof tests: `auditrail prove` and `auditrail verify --proof`
//! run as the real binary, and bundles edited the way an attacker would.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::retention_support::run;

/// `auditrail prove --config server.toml ARGS --out FILE` in `dir`: the bundle.
pub(crate) fn prove(dir: &Path, args: &[&str], file: &str) -> serde_json::Value {
    let mut all = vec!["prove", "--config", "server.toml", "--out", file];
    all.extend_from_slice(args);
    let (code, out) = run(dir, &all);
    assert_eq!(code, 0, "prove {args:?}: {out}");
    serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap()
}

/// Writes `bundle` to `file` and runs `auditrail verify --proof FILE --public-key KEY`:
/// exit code and output.
pub(crate) fn check(
    dir: &Path,
    bundle: &serde_json::Value,
    file: &str,
    key: &str,
) -> (i32, String) {
    std::fs::write(
        dir.join(file),
        serde_json::to_string_pretty(bundle).unwrap(),
    )
    .unwrap();
    run(dir, &["verify", "--proof", file, "--public-key", key])
}

/// The server's public key (`data/signing.pub`), as `ed25519:<hex>`.
pub(crate) fn key(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("data/signing.pub"))
        .unwrap()
        .trim()
        .to_string()
}

/// The checkpoint numbers of the store's log lines that carry a tree head.
pub(crate) fn tree_lines(store: &Path) -> Vec<(u64, u64)> {
    std::fs::read_to_string(store.join("checkpoints.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("treeHead").is_some())
        .map(|v| {
            (
                v["checkpoint"].as_u64().unwrap(),
                v["treeSize"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// `cp -a FROM TO` (a copy of a data dir, as a replayed backup would be).
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

/// The exact checkpoint line whose tree has `size` records.
pub(crate) fn line_of_size(store: &Path, size: u64) -> String {
    std::fs::read_to_string(store.join("checkpoints.jsonl"))
        .unwrap()
        .lines()
        .rev()
        .find(|l| l.contains(&format!("\"treeSize\":{size},")))
        .unwrap_or_else(|| panic!("no line of tree size {size}"))
        .to_string()
}

/// A store whose history spans a key rotation: 13 events (one day), the server
/// stopped and `auditrail keys rotate` run, then 8 more events signed by the new key.
/// The old and the new public key (`ed25519:<hex>`).
pub(crate) fn history_across_a_rotation(dir: &Path) -> (String, String) {
    crate::retention_support::write_config(dir, "");
    let server = crate::serve_support::start(dir, &["--config", "server.toml"]);
    crate::retention_support::post_day(&server, "2025-01-01", 13, 1);
    assert_eq!(crate::tamper_support::stop(server), 0);
    let old = key(dir);
    let (code, out) = run(dir, &["keys", "rotate", "--config", "server.toml"]);
    assert_eq!(code, 0, "keys rotate: {out}");
    let new = key(dir);
    assert_ne!(old, new);
    let server = crate::serve_support::start(dir, &["--config", "server.toml"]);
    crate::retention_support::post_day(&server, "2025-01-02", 8, 2);
    assert_eq!(crate::tamper_support::stop(server), 0);
    (old, new)
}

/// The number of the first checkpoint line whose tree has `size` records.
pub(crate) fn first_of_size(store: &Path, size: u64) -> u64 {
    tree_lines(store)
        .into_iter()
        .find(|(_, s)| *s == size)
        .unwrap_or_else(|| panic!("no line of tree size {size}"))
        .0
}
