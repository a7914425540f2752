//! A node keeps its receipts without fsync, so a crash (or a full disk) can leave part
//! of a line at the end of its receipts file. That damaged line must not make the
//! node's other receipts useless: `verify --receipt <folder>` skips it, says where,
//! and checks every other receipt; and the node's next receipt, appended after the
//! fragment, reads back (it does not join the fragment's line).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::io::Write;
use std::process::Command;

use auditrail_testkit::server::ServerProcess;

#[test]
fn a_torn_receipt_line_is_skipped_and_every_other_receipt_is_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = ServerProcess::start(&data, None);
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-t\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"{}\"\n",
            server.url
        ),
    )
    .unwrap();
    common::send_logins(&node, "first");
    // What a crash in the middle of writing the next receipt leaves: part of a line.
    let receipts = node.path().join("run/receipts");
    let files: Vec<_> = std::fs::read_dir(receipts.join("central"))
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let kept = std::fs::read_to_string(&files[0]).unwrap();
    let first_line = kept.lines().next().unwrap();
    let torn_at = kept.lines().count() + 1;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&files[0])
        .unwrap()
        .write_all(&first_line.as_bytes()[..first_line.len() / 2])
        .unwrap();
    common::send_logins(&node, "second");
    assert_eq!(server.stop(), Some(0));

    let key = std::fs::read_to_string(data.join("signing.pub")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .arg("verify")
        .arg(&data)
        .args(["--public-key", key.trim(), "--json", "--receipt"])
        .arg(&receipts)
        .output()
        .unwrap();
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // The damaged line is named, by file and line.
    let notes = report["notes"].to_string();
    assert!(
        notes.contains(&format!("line {torn_at} skipped")),
        "the torn line is reported: {notes}"
    );
    // Every event of both sends is covered by a receipt that holds.
    let mut ranges: Vec<(u64, u64)> = report["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["ok"], true, "{r}");
            (
                r["firstSeq"].as_u64().unwrap(),
                r["lastSeq"].as_u64().unwrap(),
            )
        })
        .collect();
    ranges.sort();
    let mut next = 1;
    for (first, last) in &ranges {
        assert_eq!(*first, next, "no receipt lost: {ranges:?}");
        next = last + 1;
    }
    assert_eq!(next, 21, "the receipts cover all 20 events: {ranges:?}");
}
