//! A data dir lock file `auditrail serve` cannot open (mode 000, or a folder at its
//! name) was reported as `tamper evidence: .../auditrail.lock: Permission denied`:
//! a permission or I/O problem presented as a failure of the tamper evidence. It is
//! now said as what it is: the data dir cannot be locked, naming the lock file and the
//! OS error. Mode 000 stops no root: as root only the folder is checked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use std::os::unix::fs::PermissionsExt;

use tamper_support::try_start;

#[cfg(unix)]
#[test]
fn the_refusal_names_the_lock_file_and_the_os_error_and_claims_no_tampering() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), tamper_support::CONFIG).unwrap();
    let data = dir.path().join("data");
    let lock = data.join("auditrail.lock");
    std::fs::create_dir_all(&data).unwrap();
    let mut cases = vec![("a folder", "Is a directory")];
    if !rustix::process::geteuid().is_root() {
        cases.push(("mode 000", "Permission denied"));
    } else {
        eprintln!("root: mode 000 does not stop it; the folder is checked");
    }
    for (what, os_error) in cases {
        if what == "a folder" {
            std::fs::create_dir(&lock).unwrap();
        } else {
            std::fs::write(&lock, "").unwrap();
            std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o000)).unwrap();
        }
        let (code, err) = match try_start(dir.path()) {
            Ok(server) => panic!("{what}: started: {}", server.stderr()),
            Err(refused) => refused,
        };
        assert_ne!(code, 0, "{what}: {err}");
        assert!(!err.contains("tamper"), "{what}: {err}");
        assert!(
            // `try_start` gives `--data-dir data`, relative.
            err.contains(&format!(
                "cannot lock the data dir data: data/auditrail.lock: {os_error}"
            )),
            "{what}: {err}"
        );
        if what == "a folder" {
            std::fs::remove_dir(&lock).unwrap();
        } else {
            std::fs::remove_file(&lock).unwrap();
        }
    }
}
