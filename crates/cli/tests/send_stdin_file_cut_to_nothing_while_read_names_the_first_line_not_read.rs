//! `auditrail send --stdin < FILE` while FILE is cut to nothing (a log rotation's
//! `copytruncate`: its lines are in the rotated copy). `send` took the early end of
//! file for the end of its input: exit 0, and the lines it never read were sent by
//! nobody. Now the file's length at the start is the end it must reach: the run
//! exits 1 and stderr names the first line not read, by number and byte offset; the
//! summary counts the lines read, which were all delivered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{self, HeldSend, LINE_BYTES};

/// Far more lines than the run reads while its target holds every batch.
const LINES: usize = 30_000;

#[test]
fn a_file_cut_to_nothing_while_read_names_the_first_line_not_read() {
    let held = HeldSend::start(common::fixed_width_events(LINES).as_bytes());
    // The run waits for room, far from the file's end: cut it now.
    std::fs::OpenOptions::new()
        .write(true)
        .open(held.input())
        .unwrap()
        .set_len(0)
        .unwrap();
    // As stderr names it: the path fd 0 has (links resolved).
    let input = std::fs::canonicalize(held.input()).unwrap();
    let (code, summary, stderr, node) = held.release();
    let sent = summary["sent"].as_u64().unwrap();
    assert!(sent > 0 && sent < LINES as u64, "{summary}\n{stderr}");
    assert_eq!(summary["acknowledged"], sent, "{summary}\n{stderr}");
    assert_eq!(summary["badLines"], 0, "{summary}\n{stderr}");
    assert_eq!(node.audit_lines().len() as u64, sent, "{summary}");
    let next = sent + 1;
    let at = sent * LINE_BYTES;
    let total = LINES as u64 * LINE_BYTES;
    for said in [
        // Where the read ended: the bytes already in the read buffer were read too,
        // which may end inside a line (then not sent).
        format!(
            "reading stopped at line {next} (the file on stdin ({}) was cut at byte ",
            input.display()
        ),
        format!(" while read: it held {total} bytes when `send` started"),
        format!("line {next} starts at byte {at}"),
        format!("line {next} and the lines after it were not read, nor sent"),
        format!("`tail -c +{} COPY`", at + 1),
    ] {
        assert!(stderr.contains(&said), "no {said:?} in:\n{stderr}");
    }
    assert_eq!(code, Some(1), "{summary}\n{stderr}");
}
