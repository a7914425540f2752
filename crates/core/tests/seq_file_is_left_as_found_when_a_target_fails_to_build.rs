//! A dispatcher whose build fails (here: a target whose client certificate is missing)
//! never started a run: it leaves the sequence file as it found it. The next run starts
//! where the last real run ended, with no gap and no `abandoned_seqs`, instead of
//! announcing the numbers of a crashed run that never existed.

// Helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{
    audit, topics, BuildContext, BuildError, Dispatcher, DispatcherError, Filter, Target,
    TargetConfig, TargetRegistration,
};

/// A target that, like one with TLS, opens its client certificate when built.
#[derive(serde::Deserialize)]
struct CertConfig {
    client_cert: PathBuf,
}

impl TargetConfig for CertConfig {
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Target>, BuildError> {
        match std::fs::read(&self.client_cert) {
            Ok(_) => panic!("the test's certificate {:?} exists", self.client_cert),
            Err(source) => Err(BuildError::Io {
                path: self.client_cert.clone(),
                source,
            }),
        }
    }
}

static CERT_TARGET: TargetRegistration =
    TargetRegistration::new::<CertConfig>("cert", "needs a certificate", "", "this-test");

fn builder(run_dir: &Path, target: &MemoryTarget) -> auditrail_core::DispatcherBuilder {
    let b = Dispatcher::builder(common::node())
        .run_dir(run_dir)
        .persist_seq(true);
    common::with_memory(b, "memory", target, Default::default())
}

/// A build with a second target whose certificate is missing: refused.
fn failed_build(run_dir: &Path) {
    let missing = run_dir.join("missing.crt");
    let err = builder(run_dir, &MemoryTarget::new())
        .registered_target(
            "central",
            &CERT_TARGET,
            serde_json::json!({ "client_cert": missing }),
            Filter::all(),
            Default::default(),
        )
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, DispatcherError::Target { name, .. } if name == "central"),
        "{err}"
    );
}

/// Runs one dispatcher that emits `n` events and shuts down cleanly; returns the
/// events its target received.
fn clean_run(run_dir: &Path, n: usize) -> Vec<std::sync::Arc<auditrail_core::Event>> {
    let target = MemoryTarget::new();
    let d = builder(run_dir, &target).build().unwrap();
    for _ in 0..n {
        d.emit(audit!(topics::GENERIC, "login")).unwrap();
    }
    assert!(d.shutdown_blocking(Duration::from_secs(10)).is_clean());
    drop(d);
    target.events()
}

fn seq_file(run_dir: &Path) -> Option<String> {
    std::fs::read_to_string(run_dir.join("seq").join(common::node().as_str())).ok()
}

#[test]
fn a_failed_build_leaves_the_sequence_file_as_it_found_it() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");

    // First ever start, refused: no sequence file is left behind.
    failed_build(&run_dir);
    assert_eq!(
        seq_file(&run_dir),
        None,
        "a refused first start reserves nothing"
    );

    let events = clean_run(&run_dir, 2);
    assert_eq!(
        events
            .iter()
            .map(|e| (e.seq, e.abandoned_seqs))
            .collect::<Vec<_>>(),
        [(1, None), (2, None)],
        "the run after a refused start begins at 1 and announces no abandoned numbers"
    );
    let after_clean_run = seq_file(&run_dir);

    // A refused start after a clean run: the file still says where that run ended.
    failed_build(&run_dir);
    assert_eq!(seq_file(&run_dir), after_clean_run);

    let events = clean_run(&run_dir, 1);
    assert_eq!(
        events
            .iter()
            .map(|e| (e.seq, e.abandoned_seqs))
            .collect::<Vec<_>>(),
        [(3, None)],
        "the next run continues exactly, as after a clean shutdown"
    );
}
