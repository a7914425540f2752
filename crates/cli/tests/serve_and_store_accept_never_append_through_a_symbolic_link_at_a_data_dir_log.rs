//! A symbolic link put, with the server stopped, at a log the server or `store accept`
//! appends to: the store's signed checkpoint log `store/checkpoints.jsonl` (the file
//! moved elsewhere, a link left in its place) or the data dir's `acceptances.jsonl`.
//! `serve` followed the link and appended its signed checkpoints to the file it points
//! to, outside the data dir (as root: any file), and `store accept` its signed
//! acceptance. Now the link is refused, naming it and where it points, and nothing is
//! written to that file; with the file back, the server starts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use tamper_support::{accept, fifty_records, roll_back, try_start};

#[cfg(unix)]
#[test]
fn a_link_at_the_checkpoint_log_or_the_acceptances_is_refused_and_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let (_, store) = fifty_records(dir.path());
    let data = dir.path().join("data");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();

    let log = store.join("checkpoints.jsonl");
    let moved = elsewhere.join("checkpoints.jsonl");
    std::fs::rename(&log, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &log).unwrap();
    let before = std::fs::read(&moved).unwrap();
    // Without the fix the server starts (and signs a checkpoint into `moved` at its
    // first batch or at shutdown).
    let (code, err) = match try_start(dir.path()) {
        Ok(server) => {
            tamper_support::stop(server);
            panic!("started with a link at checkpoints.jsonl")
        }
        Err(refused) => refused,
    };
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "{}: is a symbolic link (to {})",
            log.display(),
            moved.display()
        )),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&moved).unwrap(),
        before,
        "written through the link"
    );
    std::fs::remove_file(&log).unwrap();
    std::fs::rename(&moved, &log).unwrap();

    // A rolled-back store, which `store accept` records in `acceptances.jsonl`.
    roll_back(&store, 30);
    let acceptances = data.join("acceptances.jsonl");
    let outside = elsewhere.join("notes");
    std::fs::write(&outside, "outside the data dir\n").unwrap();
    std::os::unix::fs::symlink(&outside, &acceptances).unwrap();
    let (code, err) = accept(dir.path(), "restored from the backup of Monday");
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "outside the data dir\n",
        "accept wrote through the link (exit {code}): {err}"
    );
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "acceptances.jsonl: is a symbolic link (to {})",
            outside.display()
        )),
        "{err}"
    );
    std::fs::remove_file(&acceptances).unwrap();
    let (code, err) = accept(dir.path(), "restored from the backup of Monday");
    assert_eq!(code, 0, "{err}");
    let server = try_start(dir.path()).expect("starts with the files back");
    assert_eq!(tamper_support::stop(server), 0);
}
