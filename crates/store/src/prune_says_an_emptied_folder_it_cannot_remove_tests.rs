//! A prune whose partition folder, emptied, cannot be removed (its parent folder made
//! read-only or immutable) says so: the folder is named in the plan's `folders_left`
//! (and a WARN), which the retention's log and `store prune` count. The records were
//! deleted and recorded and `verify` passes, but the empty hour folder used to be left
//! without a word, looking like a partition the prune missed.
//!
//! Needs `chattr +i` on a folder (as root, modes do not stop a removal): skipped
//! elsewhere, said (see `auditrail_testkit::prereq`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::Command;

use auditrail_core::Timestamp;
use auditrail_testkit::store::event;

use crate::prune::PruneRule;

/// A folder made immutable until dropped (its test folder could not be deleted).
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
fn the_emptied_folder_left_is_named_in_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap().join("store");
    let config: crate::StoreConfig =
        serde_json::from_value(serde_json::json!({"path": "store"})).unwrap();
    let t = crate::StoreTarget::open(&root, &config, "store").unwrap();
    // Two old days; the newest record (the chain head, kept) on a third.
    t.send_blocking(&[
        event("generic", None, "2026-01-01T10:00:00.000Z", 1),
        event("generic", None, "2026-01-02T10:00:00.000Z", 2),
        event("generic", None, "2026-01-03T10:00:00.000Z", 3),
    ])
    .unwrap();
    let rule = PruneRule {
        before: Some(Timestamp::now()),
        max_bytes: None,
        now: Timestamp::now(),
    };
    let mut held = None;
    let mut skipped = None;
    let plan = t
        .handle()
        .prune_only_then(
            &rule,
            None,
            |_| Ok::<bool, Infallible>(true),
            |plan| {
                // Once recorded: the first partition's parent refuses its removal.
                let parent = root.join(&plan.partitions[0].folder);
                match Immutable::make(parent.parent().unwrap()) {
                    Ok(i) => held = Some(i),
                    Err(why) => skipped = Some(why),
                }
                Ok(())
            },
        )
        .unwrap()
        .expect("two partitions deleted");
    if let Some(why) = skipped {
        auditrail_testkit::prereq::skip(&format!("cannot make a folder immutable here: {why}"));
        return;
    }
    let first = &plan.partitions[0].folder;
    assert_eq!(plan.partitions.len(), 2, "{plan:?}");
    assert_eq!(plan.folders_left, std::slice::from_ref(first), "{plan:?}");
    let left = root.join(first);
    assert!(left.is_dir() && std::fs::read_dir(&left).unwrap().next().is_none());
    // The other day's folder went.
    assert!(!root.join(&plan.partitions[1].folder).exists());
    drop(held);
}
