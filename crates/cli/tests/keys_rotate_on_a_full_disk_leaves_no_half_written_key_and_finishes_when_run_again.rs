//! `keys rotate` on a full data disk (a real 8 MiB tmpfs filled up: `ENOSPC` while it
//! writes the new secret) fails saying so (the disk, the file, and that running it
//! again once there is space rotates the key), and leaves nothing half-written: no
//! `signing.key.next` (an empty one made every later run fail, naming neither cause
//! nor way out), no temporary file, the old key and every store's log untouched. Once
//! space is freed, running the command again rotates the key.
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use std::io::Write;
use std::path::{Path, PathBuf};

use retention_support::{post_day, run, write_config};
use serve_support::start;

/// Writes `file` until the disk is full.
fn fill(file: &Path) {
    let mut f = std::fs::File::create(file).unwrap();
    let block = vec![0u8; 64 * 1024];
    loop {
        if let Err(e) = f.write_all(&block) {
            assert_eq!(e.raw_os_error(), Some(28), "{e}");
            return;
        }
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

#[test]
fn a_full_disk_leaves_no_next_key_and_the_rotation_runs_once_space_is_back() {
    let Some(fs) = Tmpfs::mount("8m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = fs.path();
    write_config(dir, "");
    let data = dir.join("data");
    let server = start(dir, &["--config", "server.toml"]);
    post_day(&server, "2026-12-01", 5, 1);
    assert_eq!(tamper_support::stop(server), 0);
    let old_secret = std::fs::read(data.join("signing.key")).unwrap();
    let old_public = std::fs::read_to_string(data.join("signing.pub")).unwrap();
    let log = std::fs::read(data.join("store/checkpoints.jsonl")).unwrap();
    let files_before = names(&data);

    let filler: PathBuf = dir.join("filler");
    fill(&filler);
    let (code, out) = run(dir, &["keys", "rotate", "--config", "server.toml"]);
    assert_ne!(code, 0, "{out}");
    let next = data.join("signing.key.next");
    assert!(
        out.contains(&format!(
            "the new secret could not be written to {}",
            next.display()
        )) && out.contains(&format!("the disk holding {} is full", data.display()))
            && out.contains("No space left on device")
            && out.contains("Run `auditrail keys rotate` again once there is space"),
        "{out}"
    );
    assert!(!next.exists(), "a half-written {} was left", next.display());
    assert_eq!(names(&data), files_before, "nothing left behind: {out}");
    assert_eq!(std::fs::read(data.join("signing.key")).unwrap(), old_secret);
    assert_eq!(
        std::fs::read(data.join("store/checkpoints.jsonl")).unwrap(),
        log,
        "no handover written"
    );

    std::fs::remove_file(&filler).unwrap();
    let (code, out) = run(dir, &["keys", "rotate", "--config", "server.toml"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("signing key rotated"), "{out}");
    assert!(!next.exists());
    assert_ne!(std::fs::read(data.join("signing.key")).unwrap(), old_secret);
    let new_public = std::fs::read_to_string(data.join("signing.pub")).unwrap();
    assert_ne!(new_public, old_public);
    assert!(
        out.contains(&format!("{} -> {}", old_public.trim(), new_public.trim())),
        "{out}"
    );
}
