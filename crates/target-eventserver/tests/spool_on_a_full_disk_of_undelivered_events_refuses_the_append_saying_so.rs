//! A spool whose file system (a real 1 MiB tmpfs) is full of events the server has
//! not acknowledged has nothing to free: the append fails, saying which spool, that
//! the disk is full and that what it holds is not yet delivered. Nothing of the
//! failed append is kept (its partial write is cut back) and nothing spooled before
//! is lost or altered: every earlier record is delivered, in order. Once they are
//! acknowledged, the next append frees their room and goes through.
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).

use crate::spool_support::{deliver, i_of, open_default_segments, padded_records, Tmpfs};

use auditrail_target_eventserver::spool::SpoolError;

#[test]
fn the_append_fails_naming_the_full_disk_and_every_earlier_record_is_delivered() {
    let Some(fs) = Tmpfs::mount("1m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = fs.path().join("spool");
    std::fs::create_dir(&dir).unwrap();
    let spool = open_default_segments(&dir);
    let batch = 100;
    let mut appended = 0;
    let err = loop {
        assert!(appended < 2000, "a 1 MiB file system never filled up");
        match spool.append(&padded_records(appended, batch), batch as u64) {
            Ok(()) => appended += batch,
            Err(e) => break e,
        }
    };
    assert!(appended > 0, "{err}");
    assert!(matches!(err, SpoolError::DiskFull { .. }), "{err:?}");
    let text = err.to_string();
    for part in [
        &format!("spool {}", dir.display()),
        "the disk is full",
        "No space left on device",
        "not acknowledged yet",
    ] {
        assert!(text.contains(part), "{part:?} in: {text}");
    }
    assert_eq!(spool.pending_events(), appended as u64);
    let delivered: Vec<usize> = deliver(&spool).iter().map(|p| i_of(p)).collect();
    assert_eq!(
        delivered,
        (0..appended).collect::<Vec<_>>(),
        "every record before the failed append, once, in order, and none of it"
    );
    spool
        .append(&padded_records(appended, batch), batch as u64)
        .expect("the delivered records' room is freed");
    let last: Vec<usize> = deliver(&spool).iter().map(|p| i_of(p)).collect();
    assert_eq!(last, (appended..appended + batch).collect::<Vec<_>>());
}
