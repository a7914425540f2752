//! A run folder is used by one dispatcher at a time: a second dispatcher built on the
//! run folder of a live one (here in the same process; another process is refused the
//! same way) is refused at once, naming the folder and what to do, before it touches
//! the folder's sequence file. Once the first is gone, the next one gets the folder and
//! continues its sequence.

// Helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use auditrail_core::testing::{MemoryTarget, MEMORY_REGISTRATION};
use auditrail_core::{audit, topics, DispatcherBuilder, DispatcherError};
use auditrail_core::{Dispatcher, NodeConfig, Registry};

fn builder(run_dir: &std::path::Path) -> DispatcherBuilder {
    // What a node config sets up (`Dispatcher::builder_from_config`), with a memory
    // target instead of registered ones.
    let config = NodeConfig::parse(
        &format!("node = \"test-node\"\nrun_dir = {:?}\n", run_dir.display()),
        "node.toml",
        false,
        &Registry::from_registrations([&MEMORY_REGISTRATION]).unwrap(),
    )
    .unwrap();
    common::with_memory(
        Dispatcher::builder_from_config(&config),
        "t",
        &MemoryTarget::new(),
        Default::default(),
    )
}

#[test]
fn a_second_dispatcher_on_a_run_folder_in_use_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let first = builder(&run).build().unwrap();
    assert_eq!(first.emit(audit!(topics::GENERIC, "a")).unwrap().seq, 1);
    let seq_file = run.join("seq/test-node");
    let before = std::fs::read_to_string(&seq_file).unwrap();

    let err = builder(&run).build().unwrap_err();
    let msg = err.to_string();
    match &err {
        DispatcherError::RunDirInUse { run_dir, holder } => {
            assert_eq!(run_dir, &run, "{msg}");
            assert!(holder.contains(&std::process::id().to_string()), "{msg}");
        }
        other => panic!("expected RunDirInUse, got {other:?}"),
    }
    assert!(
        msg.contains(&run.display().to_string()),
        "names the folder: {msg}"
    );
    assert!(msg.contains("own `run_dir`"), "says what to do: {msg}");
    assert_eq!(
        std::fs::read_to_string(&seq_file).unwrap(),
        before,
        "the refused dispatcher did not touch the sequence file"
    );
    assert_eq!(
        first.emit(audit!(topics::GENERIC, "b")).unwrap().seq,
        2,
        "the first one keeps its numbers"
    );

    assert!(first.shutdown_blocking(Duration::from_secs(10)).is_clean());
    drop(first);
    let next = builder(&run).build().unwrap();
    assert_eq!(
        next.emit(audit!(topics::GENERIC, "c")).unwrap().seq,
        3,
        "once the first is gone, the next run gets the folder"
    );
    next.shutdown_blocking(Duration::from_secs(10));
}
