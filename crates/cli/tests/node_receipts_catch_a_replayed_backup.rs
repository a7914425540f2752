//! A node keeps the receipt of every batch the server acknowledged
//! (`<run_dir>/receipts/<target>/<date>.jsonl`), and those receipts catch what the
//! server's own files cannot: the whole data dir put back from an earlier copy (store,
//! checkpoint log and high-water mark consistent with each other) verifies without
//! them, and fails with them, naming the receipt of the batch that is gone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::path::Path;
use std::process::Command;

use auditrail_testkit::server::ServerProcess;

fn verify(data: &Path, key: &str, receipts: Option<&Path>) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auditrail"));
    cmd.arg("verify").arg(data).args(["--public-key", key]);
    if let Some(r) = receipts {
        cmd.arg("--receipt").arg(r);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn receipts_kept_by_the_node_name_the_batch_a_replayed_backup_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = ServerProcess::start(&data, None);
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-r\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"{}\"\n",
            server.url
        ),
    )
    .unwrap();
    common::send_logins(&node, "early");
    assert_eq!(server.stop(), Some(0));
    let backup = tmp.path().join("backup");
    copy_dir(&data, &backup);

    server.restart();
    common::send_logins(&node, "late");
    assert_eq!(server.stop(), Some(0));
    let key = std::fs::read_to_string(data.join("signing.pub")).unwrap();
    let key = key.trim();
    let receipts = node.path().join("run/receipts");
    let kept: Vec<String> = std::fs::read_dir(receipts.join("central"))
        .unwrap()
        .flat_map(|f| {
            std::fs::read_to_string(f.unwrap().path())
                .unwrap()
                .lines()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    // `send --stdin` cuts batches as lines arrive, so 20 events may take two batches
    // or more; what holds is that the receipts together cover every acknowledged
    // event once, in order, in one store.
    let mut ranges: Vec<(u64, u64, String)> = kept
        .iter()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let r = &v["receipt"];
            (
                r["firstSeq"].as_u64().unwrap(),
                r["lastSeq"].as_u64().unwrap(),
                r["storeId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    ranges.sort();
    let mut next = 1;
    for (first, last, store) in &ranges {
        assert_eq!(
            *first, next,
            "receipts leave no gap and no overlap: {kept:?}"
        );
        assert!(last >= first, "{kept:?}");
        assert_eq!(store, &ranges[0].2, "one store: {kept:?}");
        next = last + 1;
    }
    assert_eq!(next, 21, "the receipts cover all 20 events: {kept:?}");

    let (code, out) = verify(&data, key, Some(&receipts));
    assert_eq!(code, 0, "{out}");

    // The replay: the data dir as it was after the first batch, every file of it.
    std::fs::remove_dir_all(&data).unwrap();
    copy_dir(&backup, &data);
    let (code, out) = verify(&data, key, None);
    assert_eq!(
        code, 0,
        "without the node's receipts the replay is consistent: {out}"
    );
    let (code, out) = verify(&data, key, Some(&receipts));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("central/"),
        "the failing receipt is named: {out}"
    );
}
