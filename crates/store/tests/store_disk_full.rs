//! A full disk (a real 1 MiB tmpfs, ENOSPC) fails the batch as retryable and leaves
//! nothing partial: every file is back at its pre-batch length and the chain intact;
//! once space is freed the same batch goes through.
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it says so
//! and returns.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use auditrail_core::TargetError;
use serde_json::json;
use store_support::*;

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(size: &str) -> Option<(tempfile::TempDir, Tmpfs)> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then(|| {
            let p = dir.path().to_path_buf();
            (dir, Tmpfs(p))
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn sizes(root: &Path) -> Vec<(PathBuf, u64)> {
    segments(root)
        .into_iter()
        .map(|p| {
            let len = std::fs::metadata(&p).unwrap().len();
            (p, len)
        })
        .collect()
}

#[test]
fn enospc_undoes_the_whole_batch_and_a_retry_succeeds_once_space_is_back() {
    let Some((_dir, fs)) = Tmpfs::mount("1m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let root = fs.0.join("store");
    // Small segments: a batch touches several files, some of them new.
    let t = open(&root, json!({"segment_max_bytes": 65536}));
    let mut next = 1;
    let mut acked = 0u64;
    let failed = loop {
        // Batches over two partitions, so a failure can hit one file after another
        // file of the same batch was already written.
        let batch: Vec<_> = (next..next + 100)
            .map(|n| {
                let key = if n % 2 == 0 { "a" } else { "b" };
                event("generic", Some(key), "2026-11-25T16:55:49.123Z", n)
            })
            .collect();
        let before = sizes(&root);
        match t.send_blocking(&batch) {
            Ok(()) => {
                acked += 100;
                next += 100;
                assert!(next < 100_000, "the tmpfs never filled up");
            }
            Err(e) => {
                let TargetError::Retryable {
                    message,
                    retry_after,
                } = &e
                else {
                    panic!("a full disk must be retryable, got {e:?}");
                };
                assert!(message.contains("disk full"), "{message}");
                assert!(retry_after.is_some());
                assert_eq!(
                    sizes(&root),
                    before,
                    "files must be back at their pre-batch length"
                );
                break batch;
            }
        }
    };
    assert_eq!(t.handle().stats().disk_full_errors, 1);
    assert_eq!(
        lines(&root).len() as u64,
        acked,
        "exactly the acknowledged records"
    );
    assert_eq!(verify_chain(&root).seq, acked);

    // Free space (drop a few segments' worth of other data is not possible here, so
    // remount bigger) and retry the same batch.
    let status = Command::new("mount")
        .args(["-o", "remount,size=4m"])
        .arg(&fs.0)
        .status()
        .unwrap();
    assert!(status.success());
    t.send_blocking(&failed).unwrap();
    assert_eq!(verify_chain(&root).seq, acked + 100);
    drop(t);
}
