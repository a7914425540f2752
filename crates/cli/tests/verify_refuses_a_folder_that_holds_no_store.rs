//! `auditrail verify` on a folder that holds no store (an empty folder: an unmounted
//! volume's mount point, a mistyped path; or a node's audit folder) fails, saying what
//! it found and what a store looks like. It printed "0 records ... verdict: OK" and
//! exited 0, with `--public-key` too: a nightly verify of the wrong path passed. A
//! store whose `store-id` and checkpoint log were removed still has its segments: it is
//! walked, and the missing checkpoints are named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::tamper_support;

use retention_support::run;
use tamper_support::fifty_records;

#[test]
fn a_folder_without_a_store_is_refused_naming_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    std::fs::create_dir_all(dir.path().join("mnt/audit-store")).unwrap();
    for args in [
        vec!["verify", "mnt/audit-store"],
        vec!["verify", "mnt/audit-store", "--public-key", &key],
        vec!["verify", "mnt"],
    ] {
        let (code, out) = run(dir.path(), &args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(!out.contains("verdict: OK"), "{args:?}: {out}");
        assert!(out.contains("no store to verify"), "{args:?}: {out}");
        assert!(
            out.contains("store-id"),
            "{args:?}: says what a store holds: {out}"
        );
    }
    let (_, out) = run(dir.path(), &["verify", "mnt/audit-store"]);
    assert!(out.contains("it is empty"), "{out}");
    // The folder is named once ("verifying X: X: no store" said it twice).
    assert_eq!(out.matches("mnt/audit-store").count(), 1, "{out}");

    // A node's audit folder: its files are named, and that they are not verified.
    let audit = dir.path().join("audit");
    std::fs::create_dir(&audit).unwrap();
    std::fs::write(audit.join("audit.log"), "not an event\n").unwrap();
    std::fs::write(audit.join(".audit.log.lock"), "").unwrap();
    let (code, out) = run(dir.path(), &["verify", "audit"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("audit.log") && out.contains("audit folder"),
        "{out}"
    );

    // A store without its root files still has its records: walked, not refused.
    std::fs::remove_file(store.join("store-id")).unwrap();
    std::fs::remove_file(store.join("checkpoints.jsonl")).unwrap();
    let (code, out) = run(dir.path(), &["verify", "data/store", "--public-key", &key]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("no-checkpoints"), "{out}");
    assert!(!out.contains("no store to verify"), "{out}");
}

/// `verify --config`: a store destination whose folder exists and holds nothing of a
/// store (a server never run on this config, a volume not mounted there), and that no
/// high-water mark names, said "0 records ... verdict: OK" too. One a mark names is
/// the server's lost store: verified, and its loss reported.
#[test]
fn a_configured_store_folder_without_a_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("data/store")).unwrap();
    let (code, out) = run(dir.path(), &["verify", "--config", "server.toml"]);
    assert_ne!(code, 0, "{out}");
    assert!(!out.contains("verdict: OK"), "{out}");
    assert!(
        out.contains("no store to verify") && out.contains("it is empty"),
        "{out}"
    );

    // The server ran on it; then its folder was emptied: a loss, reported as one.
    let config = std::fs::read(dir.path().join("server.toml")).unwrap();
    let (_, store) = fifty_records(dir.path());
    std::fs::write(dir.path().join("server.toml"), config).unwrap();
    assert_eq!(store, dir.path().join("data/store"));
    for entry in std::fs::read_dir(&store).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            std::fs::remove_dir_all(p).unwrap();
        } else {
            std::fs::remove_file(p).unwrap();
        }
    }
    let (code, out) = run(dir.path(), &["verify", "--config", "server.toml"]);
    assert_ne!(code, 0, "{out}");
    assert!(!out.contains("no store to verify"), "{out}");
    assert!(out.contains("rolled-back"), "{out}");
}
