//! A prune whose selection holds a partition with an immutable segment file
//! (`chattr +i`: not even root may unlink it, whatever the folder's permissions) leaves
//! that partition out of the plan it hands over to be recorded, naming the file and
//! the attribute: the folder's permissions alone say nothing of it. It used to be
//! recorded and then fail to be removed (final60/01).
//!
//! Needs `chattr +i` (root, or `CAP_LINUX_IMMUTABLE`, on a file system with the
//! attribute): skipped elsewhere, said (see `auditrail_testkit::prereq`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::Command;

use auditrail_core::Timestamp;
use auditrail_testkit::store::event;

use crate::prune::PruneRule;

/// A file made immutable until dropped (an immutable file left behind could not be
/// deleted with its test folder).
struct Immutable(PathBuf);

impl Immutable {
    fn make(path: &Path) -> Result<Immutable, String> {
        let out = Command::new("chattr")
            .arg("+i")
            .arg(path)
            .output()
            .map_err(|e| format!("chattr: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        Ok(Immutable(path.to_path_buf()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[test]
fn the_partition_of_an_immutable_file_is_left_out_of_the_recorded_plan() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap().join("store");
    let config: crate::StoreConfig =
        serde_json::from_value(serde_json::json!({"path": "store"})).unwrap();
    let t = crate::StoreTarget::open(&root, &config, "store").unwrap();
    // Three old hours; the newest record (the chain head, kept) in the last.
    t.send_blocking(&[
        event("generic", None, "2026-01-01T10:00:00.000Z", 1),
        event("generic", None, "2026-01-01T11:00:00.000Z", 2),
        event("generic", None, "2026-01-01T12:00:00.000Z", 3),
    ])
    .unwrap();
    let rule = PruneRule {
        before: Some(Timestamp::now()),
        max_bytes: None,
        now: Timestamp::now(),
    };
    let planned = crate::prune::dry_run(&root, &config, &rule).unwrap().passes;
    let first = planned[0].partitions[0].clone();
    let file = root.join(&first.segments[0]);
    let _immutable = match Immutable::make(&file) {
        Ok(i) => i,
        Err(why) => {
            auditrail_testkit::prereq::skip(&format!("cannot make a file immutable here: {why}"));
            return;
        }
    };

    let mut recorded = Vec::new();
    let plan = t
        .handle()
        .prune(&rule, |plan| {
            recorded = plan.partitions.iter().map(|p| p.folder.clone()).collect();
            Ok::<bool, Infallible>(true)
        })
        .unwrap()
        .expect("the other partition is deleted");
    assert_eq!(recorded, [planned[0].partitions[1].folder.clone()]);
    assert_eq!(plan.unremovable.len(), 1, "{plan:?}");
    let u = &plan.unremovable[0];
    assert_eq!((u.folder.as_str(), &u.path), (first.folder.as_str(), &file));
    assert_eq!(u.attribute, Some("immutable"), "{u}");
    assert!(file.exists());
}
