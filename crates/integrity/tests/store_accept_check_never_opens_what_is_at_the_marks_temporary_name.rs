//! Before `store accept` changes anything it checks that the high-water marks can be
//! replaced: it made the marks' temporary file and removed it again. It opened
//! whatever was at that name: a symbolic link there was followed and the file it
//! points to truncated (as root, any file), a FIFO blocked the command for ever; a FIFO
//! at `acceptances.jsonl` blocked it too. The check now makes the temporary file as
//! the write does (`O_EXCL`: what is there is removed, never opened) and refuses a FIFO
//! at `acceptances.jsonl` at once, naming it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use auditrail_integrity::HighWaterMarks;

use crate::retention_support::mkfifo;

/// `check_replaceable` on `data`, given up on (a failed test) when it does not return
/// within a minute: the thread blocked in `open(2)` is left behind.
fn check(data: &Path) -> Result<(), String> {
    let marks = HighWaterMarks::in_data_dir(data);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(marks.check_replaceable().map_err(|e| e.to_string()));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("check_replaceable blocked")
}

#[cfg(unix)]
#[test]
fn a_link_or_a_fifo_at_the_temporary_name_is_not_opened_and_a_fifo_history_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let tmp = data.join("high-water.jsonl.tmp");
    let outside = dir.path().join("precious");
    std::fs::write(&outside, "not auditrail's\n").unwrap();

    std::os::unix::fs::symlink(&outside, &tmp).unwrap();
    check(&data).unwrap();
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "not auditrail's\n",
        "the link's target was truncated"
    );
    assert!(std::fs::symlink_metadata(&tmp).is_err());

    mkfifo(&tmp);
    check(&data).unwrap();
    assert!(std::fs::symlink_metadata(&tmp).is_err());

    let history = data.join("acceptances.jsonl");
    mkfifo(&history);
    let err = check(&data).unwrap_err();
    assert!(
        err.contains("acceptances.jsonl") && err.contains("is a FIFO (named pipe)"),
        "{err}"
    );
}
