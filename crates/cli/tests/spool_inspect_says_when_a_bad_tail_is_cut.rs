//! `auditrail spool inspect` said of every bad tail that can be a record cut short "cut
//! at the next start if this is the newest segment". The next start cuts it only there
//! and only from the length the spool recorded for the segment on (its `lengths` file),
//! and a tail shorter than a length field (4 bytes) counts as cut short only because
//! the file ends at a multiple of 4096 bytes, where a crash can stop a write: the text
//! now says so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use auditrail::target_eventserver::spool::record;

/// `auditrail spool inspect --dir` of a spool folder holding one segment: a record of
/// `payload` bytes, then `tail`.
fn inspect(payload: usize, tail: &[u8]) -> String {
    let node = common::Node::with_file_target("");
    let dir = node.path().join("spool");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("auditrail.lock"), "").unwrap();
    let text = format!("{{\"a\":\"{}\"}}", "x".repeat(payload - 8));
    let mut seg = Vec::new();
    record::encode_payload(text.as_bytes(), &mut seg);
    seg.extend_from_slice(tail);
    std::fs::write(dir.join(format!("{:020}.seg", 1)), &seg).unwrap();
    let out = node.run(&["spool", "inspect", "--dir", "spool"], "");
    let (stdout, stderr) = common::text(&out);
    assert!(stdout.contains("bad tail"), "{stdout} {stderr}");
    stdout
}

#[test]
fn inspect_says_when_the_next_start_cuts_a_bad_tail() {
    // A record of 8 + 4086 bytes, then 2 bytes: the file ends at 4096.
    let at_page = inspect(4086, &[0x20, 0x10]);
    assert!(
        at_page.contains(
            "can be a record cut short by a crash (fewer than a length field's 4 bytes, so \
             only because the file ends at offset 4096, a multiple of 4096 bytes, where a \
             crash can stop a write): cut at the next start if this is then the newest \
             segment and the tail begins at or after the length the spool's `lengths` file \
             records for it (anywhere when it records none); else kept and set aside as \
             damage"
        ),
        "{at_page}"
    );

    // A record cut short after its header: no word of page boundaries.
    let torn = inspect(100, &[50, 0, 0, 0, 1, 2, 3, 4, b'{', b'"']);
    assert!(
        torn.contains(
            "can be a record cut short by a crash: cut at the next start if this is then \
             the newest segment and the tail begins at or after the length the spool's \
             `lengths` file records for it"
        ),
        "{torn}"
    );

    // The same 2 bytes ending elsewhere: never cut.
    let off_page = inspect(100, &[0x20, 0x10]);
    assert!(
        off_page.contains("not a torn write: kept and set aside as damage at the next start"),
        "{off_page}"
    );
}
