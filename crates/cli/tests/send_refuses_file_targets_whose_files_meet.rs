//! A node config with two `file` targets whose files meet in one folder (one's
//! `file_name = "audit.log.1"` is a roll of the other's size-rolled `audit.log`): the
//! rolls of one overwrote the other's acknowledged lines. `auditrail send` refuses the
//! node before sending anything, naming both targets, the folder and the name, and
//! makes no audit file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

#[test]
fn send_refuses_file_targets_whose_files_meet() {
    let node = common::Node::with_file_target(
        "name = \"rolled\"\nmax_bytes = 1000\n\n[[targets]]\ntype = \"file\"\nname = \"beside\"\n\
         dir = \"audit\"\nfile_name = \"audit.log.1\"\nrotation = \"never\"",
    );
    let out = node.send_login("5");
    let (stdout, stderr) = common::text(&out);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    for needle in ["\"rolled\"", "\"beside\"", "\"audit.log.1\"", "audit"] {
        assert!(stderr.contains(needle), "{needle} not in: {stderr}");
    }
    assert!(
        !node.path().join("audit").exists(),
        "no audit file is made for a refused node: {stderr}"
    );
}
