//! The data dir is a symbolic link to a folder that is not there (a disk not mounted,
//! a folder moved away). The start was refused with `cannot create data: File exists
//! (os error 17)`, which names neither the link nor its target. Now the refusal says
//! the link dangles and where it points.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use retention_support::run;

#[cfg(unix)]
#[test]
fn the_refusal_names_the_dangling_link_and_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("unmounted/auditrail");
    std::os::unix::fs::symlink(&target, dir.path().join("data")).unwrap();
    let (code, out) = run(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"],
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "data: is a dangling symbolic link (to {}, which does not exist)",
            target.display()
        )),
        "{out}"
    );
    assert!(!target.exists(), "nothing created behind the link");
}
