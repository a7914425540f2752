//! The core conformance suite, reading events back from the store's real files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::path::Path;

use auditrail_core::testing::conformance::{run, Harness, ReadBackError};
use auditrail_core::{async_trait, Event, TargetRegistration};

struct StoreHarness;

#[async_trait]
impl Harness for StoreHarness {
    fn registration(&self) -> &'static TargetRegistration {
        &auditrail_store::REGISTRATION
    }

    fn config(&self, scratch: &Path) -> serde_json::Value {
        serde_json::json!({ "path": scratch.join("store") })
    }

    async fn read_back(&self, scratch: &Path) -> Result<Vec<Event>, ReadBackError> {
        let root = scratch.join("store");
        if !root.exists() {
            return Ok(Vec::new());
        }
        Ok(store_support::stored_events(&root))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_conforms() {
    run(&StoreHarness).await.unwrap();
}
