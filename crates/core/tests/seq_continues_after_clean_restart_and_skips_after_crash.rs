//! With `persist_seq`, a restart after a graceful shutdown continues the sequence
//! exactly; a restart after a crash (no shutdown) starts past the durable reservation,
//! so numbers never repeat, leaving a gap.

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
fn clean_restart_has_no_gap_crash_restart_never_repeats() {
    let dir = tempfile::tempdir().unwrap();

    let d = start(dir.path());
    assert_eq!((emit(&d), emit(&d), emit(&d)), (1, 2, 3));
    assert!(d.shutdown_blocking(Duration::from_secs(10)).is_clean());
    drop(d);

    let d = start(dir.path());
    assert_eq!(emit(&d), 4, "a clean restart continues exactly");
    let last = emit(&d);
    assert_eq!(last, 5);
    // A crash: no shutdown, no drop (the process would just be gone). The forgotten
    // dispatcher keeps its run folder locked, as a live process would; the kernel
    // drops a dead process's lock, so the next run gets the folder as the crash left
    // it: a copy of its sequence file.
    std::mem::forget(d);
    let after_crash = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(after_crash.path().join("seq")).unwrap();
    let name = format!("seq/{}", common::node().as_str());
    std::fs::copy(dir.path().join(&name), after_crash.path().join(&name)).unwrap();

    let d = start(after_crash.path());
    let next = emit(&d);
    assert!(
        next > last + 1,
        "after a crash the sequence skips ahead (got {next} after {last})"
    );
    d.shutdown_blocking(Duration::from_secs(10));
}
