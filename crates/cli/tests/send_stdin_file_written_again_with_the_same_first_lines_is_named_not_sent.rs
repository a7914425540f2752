//! `auditrail send --stdin < FILE` while FILE is cut and written again past the point
//! the run has read to, by a writer whose new file begins with the same lines as the
//! old one (a fixed header, or the same first events written again). The file's
//! first bytes, which identify a file to the log shippers, are the same: a check of
//! them alone reads the new file on from the run's offset, mixing its lines into the
//! old one's. The bytes the run read last are checked too: it stops where it noticed,
//! sends none of the new file and exits 1, naming the first line not sent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;

use crate::common::{self, HeldSend, LINE_BYTES};

/// Far more lines than the run reads while its target holds every batch.
const LINES: usize = 30_000;

/// The lines the new file shares with the old one at its start: far more than its
/// first 256 bytes, far fewer than the run has read when the file is written again.
const SAME: usize = 300;

#[test]
fn a_file_written_again_with_the_same_first_lines_is_named_and_not_sent() {
    let old = common::fixed_width_events(LINES);
    let held = HeldSend::start(old.as_bytes());
    let same = SAME * LINE_BYTES as usize;
    let new_file = format!("{}{}", &old[..same], old[same..].replace("\"t\"", "\"n\""));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(held.input())
        .unwrap();
    file.set_len(0).unwrap();
    file.write_all(new_file.as_bytes()).unwrap();
    drop(file);
    let (code, summary, stderr, node) = held.release();
    let sent = summary["sent"].as_u64().unwrap();
    assert!(
        sent > SAME as u64 && sent < LINES as u64,
        "{summary}\n{stderr}"
    );
    assert_eq!(summary["acknowledged"], sent, "{summary}\n{stderr}");
    let types: Vec<String> = node
        .audit_lines()
        .iter()
        .map(|l| l["message"]["msgType"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types.len() as u64, sent, "{summary}");
    assert!(types.iter().all(|t| t == "t"), "new lines sent:\n{stderr}");
    let next = sent + 1;
    let at = sent * LINE_BYTES;
    for said in [
        format!("reading stopped at line {next} (the file on stdin ("),
        "the 256 bytes read last, before byte ".to_owned(),
        "no longer held what they held when read (truncated and written again".to_owned(),
        format!("line {next}, from byte {at}, is the first line not sent"),
    ] {
        assert!(stderr.contains(&said), "no {said:?} in:\n{stderr}");
    }
    assert_eq!(code, Some(1), "{summary}\n{stderr}");
}
