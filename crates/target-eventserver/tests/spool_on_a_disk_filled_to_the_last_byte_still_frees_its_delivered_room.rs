//! A spool whose file system another file filled to the last byte (a real 1 MiB
//! tmpfs): not even the `ack` file's new copy gets a block, and the ack position must
//! be durable before a delivered segment is deleted. The `ack` line is then written
//! over the old one in place, so that the acknowledgement is kept and the delivered
//! segment's room freed: the next append goes through, the records delivered once,
//! and a reopened spool finds the ack position where it was left (nothing sent
//! twice, nothing reported lost). (Before, the delivered segment stayed on the full
//! disk and every append failed.)
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).

use crate::spool_support::{deliver, i_of, open_default_segments, padded_records, Tmpfs};

use std::io::Write;

#[test]
fn the_ack_is_written_in_place_and_the_delivered_segment_deleted() {
    let Some(fs) = Tmpfs::mount("1m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = fs.path().join("spool");
    std::fs::create_dir(&dir).unwrap();
    let spool = open_default_segments(&dir);
    spool.append(&padded_records(0, 100), 100).unwrap();

    // Another program fills the disk up to its last block.
    let mut filler = std::fs::File::create(fs.path().join("filler")).unwrap();
    let block = vec![b'x'; 64 * 1024];
    let full = loop {
        if let Err(e) = filler.write_all(&block) {
            break e;
        }
    };
    assert_eq!(full.raw_os_error(), Some(28), "{full}");
    let e = std::fs::write(fs.path().join("probe"), b"x").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(28), "the disk is full: {e}");

    let first: Vec<usize> = deliver(&spool).iter().map(|p| i_of(p)).collect();
    assert_eq!(first, (0..100).collect::<Vec<_>>());
    spool
        .append(&padded_records(100, 10), 10)
        .expect("the delivered segment's room is freed");
    drop(spool);

    // The acknowledgement of the first 100 is on disk: none of them is sent again.
    let spool = open_default_segments(&dir);
    let rest: Vec<usize> = deliver(&spool).iter().map(|p| i_of(p)).collect();
    assert_eq!(rest, (100..110).collect::<Vec<_>>());
    assert!(
        !dir.join("lost.jsonl").exists(),
        "{:?}",
        std::fs::read_to_string(dir.join("lost.jsonl"))
    );
}
