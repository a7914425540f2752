//! A sequence file `auditrail send` cannot read (mode 000, a folder or a FIFO in its
//! place) was named by its folder (`sequence file in .../run/seq: Permission
//! denied`): the error now names the file itself and the OS error, and nothing is
//! sent. Mode 000 stops no root: as root only the folder and the FIFO are checked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::tamper_support;

use std::os::unix::fs::PermissionsExt;

#[cfg(unix)]
#[test]
fn the_error_names_the_sequence_file_and_the_os_error() {
    let node = common::Node::with_file_target("");
    let first = node.run(common::SEND_A_LOGIN, "");
    assert!(first.status.success(), "{:?}", common::text(&first));
    let file = node.path().join("run/seq/cli-test-node");
    let saved = std::fs::read(&file).unwrap();
    let named = format!("sequence file {}: ", file.display());

    let mut cases: Vec<(&str, &str)> = vec![
        ("a folder", "Is a directory"),
        ("a FIFO", "is a FIFO (named pipe), not a regular file"),
    ];
    if !rustix::process::geteuid().is_root() {
        cases.push(("mode 000", "Permission denied"));
    } else {
        eprintln!("root: mode 000 does not stop it; the folder and the FIFO are checked");
    }
    for (what, os_error) in cases {
        std::fs::remove_file(&file).unwrap();
        match what {
            "a folder" => std::fs::create_dir(&file).unwrap(),
            "a FIFO" => tamper_support::make_fifo(&file),
            _ => {
                std::fs::write(&file, &saved).unwrap();
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
            }
        }
        let out = node.run(common::SEND_A_LOGIN, "");
        let (_, err) = common::text(&out);
        assert!(!out.status.success(), "{what}: {err}");
        assert!(err.contains(&format!("{named}{os_error}")), "{what}: {err}");
        if std::fs::symlink_metadata(&file).unwrap().is_dir() {
            std::fs::remove_dir(&file).unwrap();
            std::fs::write(&file, &saved).unwrap();
        }
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    assert_eq!(node.audit_lines().len(), 1, "nothing more was sent");
}
