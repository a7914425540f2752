//! A spool on a file system smaller than `spool_segment_bytes` (16 MiB by default):
//! the segment being written fills the disk with events the server has already
//! acknowledged. An append that then finds the disk full (`ENOSPC`, a real 1 MiB
//! tmpfs) frees their room (the wholly acknowledged head is deleted and a new segment
//! started, as at `spool_max_bytes`) and goes through: four times the file system's
//! size passes through it, every record delivered once, in order. (Before, every
//! later append failed with `ENOSPC` and was retried for ever, though the server held
//! every spooled event.) The records are read by one reader throughout, as the
//! sender reads them: a reader that kept the delivered segment open would keep its
//! room on the disk after its deletion.
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).

use crate::spool_support::{
    deliver_with, i_of, open_default_segments, padded_records, segment_files, Tmpfs,
};

#[test]
fn four_mib_of_delivered_events_pass_through_a_spool_on_a_one_mib_file_system() {
    let Some(fs) = Tmpfs::mount("1m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = fs.path().join("spool");
    std::fs::create_dir(&dir).unwrap();
    let spool = open_default_segments(&dir);
    let (batch, rounds) = (100, 40);
    let mut delivered = Vec::new();
    let mut reader = spool.reader();
    for round in 0..rounds {
        spool
            .append(&padded_records(round * batch, batch), batch as u64)
            .unwrap_or_else(|e| panic!("round {round} of {rounds}: {e}"));
        delivered.extend(deliver_with(&spool, &mut reader).iter().map(|p| i_of(p)));
    }
    assert_eq!(
        delivered,
        (0..rounds * batch).collect::<Vec<_>>(),
        "every record delivered once, in order"
    );
    assert!(spool.is_drained());
    assert!(segment_files(&dir).len() <= 2, "{:?}", segment_files(&dir));
}
