//! `auditrail send --stdin < FILE` while FILE is cut to nothing and written again past
//! the point the run has read to (a log rotation's `copytruncate`, then the
//! application's next lines, all before the run reads on). The file was as long as at
//! the start, so the cut went unseen: the run read on from its offset in the new
//! file and sent those lines after the old ones, exit 0: the old file's lines between
//! were lost and the new file's first lines never sent, silently. Now each read is
//! checked against what the file held: the run stops where it noticed, sends none of
//! the new file, exits 1, and stderr names the file, the byte it noticed at and the
//! first line not sent; the lines sent are the old file's first lines, all delivered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;

use crate::common::{self, HeldSend, LINE_BYTES};

/// Far more lines than the run reads while its target holds every batch.
const LINES: usize = 30_000;

#[test]
fn a_file_cut_and_written_again_past_the_read_position_is_named_and_not_sent() {
    let held = HeldSend::start(common::fixed_width_events(LINES).as_bytes());
    // The run waits for room, far from the file's end: cut it and write other lines
    // (`msgType` "n"), as many as before, as a writer does after `copytruncate`.
    let new_file = common::fixed_width_events(LINES).replace("\"t\"", "\"n\"");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(held.input())
        .unwrap();
    file.set_len(0).unwrap();
    file.write_all(new_file.as_bytes()).unwrap();
    drop(file);
    let path = held.input().canonicalize().unwrap();
    let (code, summary, stderr, node) = held.release();
    let sent = summary["sent"].as_u64().unwrap();
    assert!(sent > 0 && sent < LINES as u64, "{summary}\n{stderr}");
    assert_eq!(summary["acknowledged"], sent, "{summary}\n{stderr}");
    assert_eq!(summary["badLines"], 0, "{summary}\n{stderr}");
    // Only the old file's lines, in order, and none of the new file's.
    let stored: Vec<(String, u64)> = node
        .audit_lines()
        .iter()
        .map(|l| {
            let m = &l["message"];
            let i = m["i"].as_str().unwrap().parse().unwrap();
            (m["msgType"].as_str().unwrap().to_owned(), i)
        })
        .collect();
    let expected: Vec<(String, u64)> = (1..=sent).map(|i| ("t".to_owned(), i)).collect();
    assert_eq!(stored, expected, "{summary}\n{stderr}");
    let next = sent + 1;
    let at = sent * LINE_BYTES;
    for said in [
        format!(
            "reading stopped at line {next} (the file on stdin ({}) was rewritten in place \
             while read: reading on from byte ",
            path.display()
        ),
        "its first 256 bytes no longer held what they held when `send` started (truncated \
         and written again"
            .to_owned(),
        "the lines it holds now are other lines, none of them sent".to_owned(),
        format!("line {next}, from byte {at}, is the first line not sent"),
        format!("line {next} and the lines after it were not read, nor sent"),
        format!("`tail -c +{} COPY`", at + 1),
    ] {
        assert!(stderr.contains(&said), "no {said:?} in:\n{stderr}");
    }
    // Where it noticed: inside line `next` (the lines before it were read whole).
    let noticed: u64 = stderr
        .split("reading on from byte ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no byte offset in:\n{stderr}"));
    assert!(
        (at..at + LINE_BYTES).contains(&noticed),
        "noticed at {noticed}, line {next} is bytes {at}..{}:\n{stderr}",
        at + LINE_BYTES
    );
    assert_eq!(code, Some(1), "{summary}\n{stderr}");
}
