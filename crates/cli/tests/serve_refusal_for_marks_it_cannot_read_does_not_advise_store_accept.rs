//! A high-water marks file the server cannot read (another owner, mode 000, a FIFO at its
//! name) stops the start, as before, but the refusal no longer advises `auditrail store
//! accept`: that command is the way on after a lost or older marks file, records a signed
//! acceptance, and refuses a marks file it cannot replace anyway. The refusal says to
//! make the file one the server's user can read and write, and to keep it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use tamper_support::{fifty_records, put_back, replace_with_fifo, try_start};

#[cfg(unix)]
#[test]
fn an_unreadable_marks_file_is_refused_with_advice_to_fix_it_not_to_accept() {
    let dir = tempfile::tempdir().unwrap();
    fifty_records(dir.path());
    let path = dir.path().join("data/high-water.jsonl");
    let aside = dir.path().join("aside");
    // A FIFO: unreadable as a marks file whoever runs the test (root reads any mode).
    replace_with_fifo(&path, &aside);
    let (code, err) = match try_start(dir.path()) {
        Ok(server) => panic!("started: {}", server.stderr()),
        Err(refused) => refused,
    };
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("high-water.jsonl"), "{err}");
    assert!(
        err.contains("a regular file that the server's user can read and write"),
        "{err}"
    );
    assert!(!err.contains("store accept"), "{err}");
    put_back(&path, &aside);
    let server = try_start(dir.path()).expect("starts with the file back");
    assert_eq!(tamper_support::stop(server), 0);
}
