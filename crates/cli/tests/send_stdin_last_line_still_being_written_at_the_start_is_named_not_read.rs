//! `auditrail send --stdin < FILE` reads the bytes FILE held when it started (lines
//! appended while it runs are not read). When the application was writing FILE's
//! last line then, that line had no newline yet: `send` called it a bad line ("not
//! JSON") and advised fixing and sending only it, though nothing in it is wrong (its
//! rest is in the file now). Now, in a file that has grown since, such a line is the
//! first line not read: named by number and byte offset, not sent, exit status 1; the
//! lines appended after it are not read (as documented) and the advice sends them
//! from that line on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;

use crate::common::{self, HeldSend, LINE_BYTES};

/// Far more lines than the run reads while its target holds every batch.
const LINES: usize = 30_000;

#[test]
fn a_last_line_without_its_newline_in_a_file_grown_since_is_named_not_read() {
    let whole = common::fixed_width_events(LINES + 1);
    let last = (LINES as u64 * LINE_BYTES) as usize;
    // The last line, half written.
    let (start, rest) = whole.split_at(last + 20);
    let held = HeldSend::start(start.as_bytes());
    // The application finishes the line and writes more.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(held.input())
        .unwrap();
    file.write_all(rest.as_bytes()).unwrap();
    file.write_all(b"{\"topic\":\"generic\",\"message\":{\"msgType\":\"later\"}}\n")
        .unwrap();
    drop(file);
    let (code, summary, stderr, node) = held.release();
    let lines = LINES as u64;
    assert_eq!(summary["sent"], lines, "{summary}\n{stderr}");
    assert_eq!(summary["acknowledged"], lines, "{summary}\n{stderr}");
    assert_eq!(summary["badLines"], 0, "{summary}\n{stderr}");
    assert_eq!(node.audit_lines().len() as u64, lines, "{summary}");
    let next = lines + 1;
    for said in [
        format!(
            "reading stopped at line {next} (line {next}, at byte {last}, had no newline yet \
             when `send` started and the file has grown since"
        ),
        format!("send them from line {next} on (`tail -n +{next} FILE`)"),
    ] {
        assert!(stderr.contains(&said), "no {said:?} in:\n{stderr}");
    }
    assert!(!stderr.contains("not JSON"), "{stderr}");
    assert_eq!(code, Some(1), "{summary}\n{stderr}");
}
