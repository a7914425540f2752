//! `auditrail targets` listed the linked types only: nothing told an operator which of
//! a node's targets answer before their events are on disk (a `file` target with
//! `fsync = false`, an `eventserver` target with `spool_fsync = "never"`), whose
//! acknowledgements a power loss may undo. `auditrail targets --config node.toml` lists
//! each configured target, `<name>\t<type>\tdurable` or `...\tnot durable: <why>`
//! (the target's `TargetConfig::durability`); the plain listing is unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::process::Command;

#[test]
fn each_configured_target_is_listed_with_its_durability() {
    let node = common::Node::with_file_target(
        "name = \"synced\"\n\n[[targets]]\ntype = \"file\"\nname = \"lazy\"\ndir = \"lazy\"\nfsync = false\n\n\
         [[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"http://127.0.0.1:9\"\nspool_fsync = \"never\"",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["targets", "--config"])
        .arg(node.path().join("node.toml"))
        .output()
        .unwrap();
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(lines[0], ["synced", "file", "durable"], "{stdout}");
    assert_eq!(lines[1][..2], ["lazy", "file"], "{stdout}");
    assert!(
        lines[1][2].starts_with("not durable: ") && lines[1][2].contains("fsync = false"),
        "{stdout}"
    );
    assert_eq!(lines[2][..2], ["central", "eventserver"], "{stdout}");
    assert!(
        lines[2][2].starts_with("not durable: ") && lines[2][2].contains("spool_fsync"),
        "{stdout}"
    );
}
