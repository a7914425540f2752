//! `keys rotate --discard-staged`, run as the server's user, meets a `signing.key.next`
//! it cannot read (restored or copied back as root, mode 0600). What the file holds is
//! unknown (the staged key the nodes were given, typically), so it is refused as every
//! other `keys` command refuses it: kept as it is, the error naming the file, the
//! operating system's error, whose the file is and as whom the command runs. Only a
//! file read and found to hold no key is removed as "a file holding no key".
//!
//! Needs root (to give the file to another user) and the user `nobody`; skipped
//! through `auditrail_testkit::prereq::skip` elsewhere.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// The uid and gid of `nobody`, if this runs as root and the user exists.
fn nobody() -> Option<(u32, u32)> {
    if rustix::process::geteuid().as_raw() != 0 {
        return None;
    }
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "nobody"]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

fn chown_all(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            chown_all(&e.unwrap().path(), uid, gid);
        }
    }
}

#[test]
fn an_unreadable_staged_key_is_kept_and_refused_naming_its_owner() {
    let Some((uid, gid)) = nobody() else {
        auditrail_testkit::prereq::skip("needs root and the user nobody");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join("auditrail");
    std::fs::copy(env!("CARGO_BIN_EXE_auditrail"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.path().join("data");
    common::stopped_server_with_a_staged_key(&data);
    let next = data.join("signing.key.next");
    let secret = std::fs::read(&next).unwrap();
    // The server's user owns the data dir; the staged key came back as root's.
    chown_all(&data, uid, gid);
    std::os::unix::fs::chown(&next, Some(0), Some(0)).unwrap();

    let out = Command::new("setpriv")
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={gid}"),
            "--clear-groups",
        ])
        .arg(&bin)
        .args(["keys", "rotate", "--discard-staged", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_ne!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("holding no key"), "{stdout}");
    assert!(
        stderr.contains(&format!("{} cannot be read", next.display()))
            && stderr.contains("Permission denied")
            && stderr.contains(&format!(
                "It belongs to uid 0 (mode 0600), and this command runs as uid {uid}"
            )),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&next).unwrap(),
        secret,
        "the staged key was removed"
    );
}
