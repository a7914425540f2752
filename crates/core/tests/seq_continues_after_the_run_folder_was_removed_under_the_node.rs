//! The run folder is removed under a running node (a cleanup job's `rm -rf run`), the
//! sequence file with it. The graceful shutdown writes the sequence file again (in a
//! folder created again), so the next start goes on past the numbers used instead of
//! numbering from 1 again: the server would get the node's numbers twice.

// Helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, Dispatcher};

fn start(run_dir: &std::path::Path) -> Dispatcher {
    let b = Dispatcher::builder(common::node())
        .run_dir(run_dir)
        .persist_seq(true);
    common::with_memory(b, "t", &MemoryTarget::new(), Default::default())
        .build()
        .unwrap()
}

fn emit(d: &Dispatcher) -> u64 {
    d.emit(audit!(topics::GENERIC, "tick")).unwrap().seq
}

#[test]
fn the_next_start_numbers_past_the_events_of_the_run_whose_folder_was_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");

    let d = start(&run);
    assert_eq!((emit(&d), emit(&d)), (1, 2));
    std::fs::remove_dir_all(&run).unwrap();
    assert_eq!((emit(&d), emit(&d)), (3, 4));
    assert!(d.shutdown_blocking(Duration::from_secs(10)).is_clean());
    drop(d);

    let seq_file = run.join("seq").join(common::node().as_str());
    assert!(
        seq_file.exists(),
        "no sequence file at {}",
        seq_file.display()
    );
    let d = start(&run);
    assert_eq!(emit(&d), 5, "the next start goes on past the numbers used");
    d.shutdown_blocking(Duration::from_secs(10));
}
