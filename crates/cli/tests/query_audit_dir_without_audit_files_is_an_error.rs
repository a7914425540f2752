//! `sql --audit-dir` on a folder that holds no audit file (a mistyped folder, one
//! holding only other files) fails naming the folder and what it holds, rather than
//! answering 0 events with exit 0.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common;

#[test]
fn a_folder_without_audit_files_is_an_error_naming_its_files() {
    let node = common::Node::with_file_target("");
    let other = node.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("readme.md"), "# not audit\n").unwrap();

    let (n, out) = common::count_in_audit_dir(&node, "other");
    let (stdout, stderr) = common::text(&out);
    assert_ne!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(n, None, "{stdout}");
    assert!(stderr.contains("other: no audit files"), "{stderr}");
    assert!(stderr.contains("other/readme.md"), "{stderr}");

    std::fs::create_dir(node.path().join("empty")).unwrap();
    let (_, out) = common::count_in_audit_dir(&node, "empty");
    let (stdout, stderr) = common::text(&out);
    assert_ne!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("empty: no audit files"), "{stderr}");
}
