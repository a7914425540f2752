//! A target that fails to build makes `DispatcherBuilder::build` return the error, also
//! when `build` is called from async code (the README's `#[tokio::main]`). It used to
//! panic there instead ("Cannot drop a runtime in a context where blocking is not
//! allowed"): the failed build dropped the runtimes it had made for its workers, and
//! tokio refuses a blocking runtime drop inside an async context. A missing file named
//! by one target's config then crashed the program instead of being reported.

// Helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::path::PathBuf;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{
    BuildContext, BuildError, Dispatcher, DispatcherError, Filter, Target, TargetConfig,
    TargetRegistration,
};

/// A target that opens a file when built, as one with a client certificate does.
#[derive(serde::Deserialize)]
struct CertConfig {
    client_cert: PathBuf,
}

impl TargetConfig for CertConfig {
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Target>, BuildError> {
        std::fs::read(&self.client_cert)
            .map_err(|source| BuildError::Io {
                path: self.client_cert.clone(),
                source,
            })
            .map(|_| panic!("the test's certificate {:?} exists", self.client_cert))
    }
}

static CERT_TARGET: TargetRegistration =
    TargetRegistration::new::<CertConfig>("cert", "needs a certificate", "", "this-test");

async fn build_with_a_missing_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.crt");
    // A first target that builds, so that its worker's runtime exists when the second
    // one fails.
    let builder = common::with_memory(
        Dispatcher::builder(common::node()).run_dir(dir.path().join("run")),
        "memory",
        &MemoryTarget::new(),
        Default::default(),
    )
    .registered_target(
        "central",
        &CERT_TARGET,
        serde_json::json!({ "client_cert": missing }),
        Filter::all(),
        Default::default(),
    );
    let err = builder.build().unwrap_err();
    match &err {
        DispatcherError::Target { name, source, .. } => {
            assert_eq!(name, "central");
            assert!(
                matches!(source, BuildError::Io { path, .. } if *path == missing),
                "{source}"
            );
        }
        other => panic!("expected the target's build error, got {other}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn on_a_current_thread_runtime() {
    build_with_a_missing_certificate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_multi_thread_runtime() {
    build_with_a_missing_certificate().await;
}
