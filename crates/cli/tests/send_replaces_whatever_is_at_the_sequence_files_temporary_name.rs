//! The node's sequence file is replaced through a temporary file beside it (written,
//! fsynced, renamed). A FIFO (named pipe) put at that temporary name made `auditrail
//! send` block for ever in `open(2)` (no reader): nothing sent, nothing said. The
//! temporary name is auditrail's own: what is found there (a FIFO, a symbolic link, a
//! stale file of a crash) is removed, never opened, and a new file written; the send
//! goes on and the sequence file is a regular file that continues the numbers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::tamper_support;

use std::time::Duration;

/// Puts something at a path.
type Plant<'a> = dyn Fn(&std::path::Path) + 'a;

#[cfg(unix)]
#[test]
fn a_fifo_a_link_or_a_stale_file_at_the_temporary_name_is_replaced_and_the_send_goes_on() {
    let node = common::Node::with_file_target("");
    let first = node.run(common::SEND_A_LOGIN, "");
    assert!(first.status.success(), "{:?}", common::text(&first));
    let seq = node.path().join("run/seq");
    let outside = node.path().join("outside");
    std::fs::write(&outside, "not auditrail's\n").unwrap();
    // The temporary name (`.<node>.tmp`), and the one of earlier versions.
    let tmp_names = [".cli-test-node.tmp", "cli-test-node.tmp"];
    let plants: [(&str, &Plant<'_>); 3] = [
        ("a FIFO", &|p| tamper_support::make_fifo(p)),
        ("a symbolic link", &|p| {
            std::os::unix::fs::symlink(&outside, p).unwrap()
        }),
        ("a stale file", &|p| {
            std::fs::write(p, "reserved 9 fr").unwrap()
        }),
    ];
    let mut sent = 1;
    for (what, plant) in plants {
        for name in tmp_names {
            plant(&seq.join(name));
        }
        // Without the fix, the FIFO case hangs here until killed.
        let out = node
            .run_within(common::SEND_A_LOGIN, Duration::from_secs(60))
            .unwrap_or_else(|| panic!("with {what} at the temporary name, send hung"));
        assert!(out.status.success(), "{what}: {:?}", common::text(&out));
        sent += 1;
        let tmp = seq.join(tmp_names[0]);
        assert!(
            std::fs::symlink_metadata(&tmp).is_err(),
            "{what}: left at {}",
            tmp.display()
        );
        let file = seq.join("cli-test-node");
        assert!(
            std::fs::symlink_metadata(&file).unwrap().is_file(),
            "{what}"
        );
        assert!(
            std::fs::read_to_string(&file).unwrap().starts_with("next "),
            "{what}"
        );
        for name in &tmp_names[1..] {
            let _ = std::fs::remove_file(seq.join(name));
        }
    }
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "not auditrail's\n"
    );
    let seqs: Vec<u64> = node
        .audit_lines()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=sent).collect::<Vec<u64>>());
}
