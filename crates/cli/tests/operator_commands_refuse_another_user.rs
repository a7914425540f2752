//! The operator commands that replace files in a data dir (`keys rotate`, `store
//! prune`, `store accept`) refuse to run as another user than the data dir's owner:
//! run as root on a server's data dir owned by its service user, they left root-owned
//! `signing.key` and `high-water.jsonl` behind, which the server (as its user) then
//! could not replace at its next checkpoint. The refusal names the owner and the way
//! (`sudo -u`), and nothing is changed.
//!
//! Needs root (to give the data dir to another user); it says so and passes without
//! checking anything when not run as root.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use std::os::unix::fs::MetadataExt;

use retention_support::run;

#[test]
fn root_on_a_data_dir_owned_by_another_user_is_refused() {
    if !rustix::process::geteuid().is_root() {
        auditrail_testkit::prereq::skip("not root: cannot give a data dir to another user");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    retention_support::store_of_two_days(dir.path(), "");
    let data = dir.path().join("data");
    // The service user (65534: `nobody`) owns the data dir and the store.
    let nobody = Some(rustix::fs::Uid::from_raw(65534));
    for p in [data.clone(), data.join("store")] {
        rustix::fs::chown(&p, nobody, None).unwrap();
    }
    let key = std::fs::read(data.join("signing.key")).unwrap();
    let marks = std::fs::read(data.join("high-water.jsonl")).unwrap();
    let log = std::fs::read(data.join("store/checkpoints.jsonl")).unwrap();

    for args in [
        &["keys", "rotate", "--config", "server.toml"][..],
        &[
            "store",
            "prune",
            "--config",
            "server.toml",
            "--before",
            "2025-01-02",
        ][..],
        &[
            "store",
            "accept",
            "--config",
            "server.toml",
            "--reason",
            "test",
        ][..],
    ] {
        let (code, out) = run(dir.path(), args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(
            out.contains("belongs to uid 65534") && out.contains("sudo -u"),
            "{args:?}: {out}"
        );
        assert_eq!(std::fs::read(data.join("signing.key")).unwrap(), key);
        assert_eq!(std::fs::read(data.join("high-water.jsonl")).unwrap(), marks);
        assert_eq!(
            std::fs::read(data.join("store/checkpoints.jsonl")).unwrap(),
            log
        );
        assert!(!data.join("signing.key.next").exists());
        assert_eq!(
            std::fs::metadata(data.join("signing.key")).unwrap().uid(),
            0
        );
    }
}
