//! `auditrail send --stdin < FILE` while FILE is cut inside a line. The torn line was
//! a bad line ("not JSON"), and the advice after the summary was to fix that line and
//! send only it, "not the whole input again": followed, it lost every line after the
//! cut. Now the torn line is the first line not read: stderr names it, where it
//! starts and that its file (named by its path) was cut there; the lines before it are sent, and the
//! exit status is 1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{self, HeldSend, LINE_BYTES};

/// Far more lines than the run reads while its target holds every batch.
const LINES: usize = 30_000;

/// The line the cut falls in: past what the run reads while its target holds batches.
const TORN: u64 = 20_000;

#[test]
fn a_line_torn_by_a_cut_is_named_as_the_first_line_not_read_not_as_a_bad_line() {
    let held = HeldSend::start(common::fixed_width_events(LINES).as_bytes());
    let at = (TORN - 1) * LINE_BYTES;
    let cut = at + 10;
    std::fs::OpenOptions::new()
        .write(true)
        .open(held.input())
        .unwrap()
        .set_len(cut)
        .unwrap();
    // As stderr names it: the path fd 0 has (links resolved).
    let input = std::fs::canonicalize(held.input()).unwrap();
    let (code, summary, stderr, node) = held.release();
    assert_eq!(summary["sent"], TORN - 1, "{summary}\n{stderr}");
    assert_eq!(summary["acknowledged"], TORN - 1, "{summary}\n{stderr}");
    assert_eq!(summary["badLines"], 0, "{summary}\n{stderr}");
    assert_eq!(node.audit_lines().len() as u64, TORN - 1, "{summary}");
    for said in [
        format!(
            "reading stopped at line {TORN} (the file on stdin ({}) was cut at byte {cut} while read",
            input.display()
        ),
        format!("line {TORN} starts at byte {at} and only its first 10 bytes were there"),
        format!("send them from line {TORN} on"),
    ] {
        assert!(stderr.contains(&said), "no {said:?} in:\n{stderr}");
    }
    assert!(
        !stderr.contains("send only it") && !stderr.contains("not JSON"),
        "{stderr}"
    );
    assert_eq!(code, Some(1), "{summary}\n{stderr}");
}
