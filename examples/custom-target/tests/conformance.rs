//! The example target passes the core conformance suite, writing real files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::Path;

use auditrail_core::testing::conformance::{run, Harness, ReadBackError};
use auditrail_core::{async_trait, Event, TargetRegistration};

struct JsonlHarness;

#[async_trait]
impl Harness for JsonlHarness {
    fn registration(&self) -> &'static TargetRegistration {
        &auditrail_example_custom_target::REGISTRATION
    }

    fn config(&self, scratch: &Path) -> serde_json::Value {
        serde_json::json!({ "output": scratch.join("events.jsonl") })
    }

    async fn read_back(&self, scratch: &Path) -> Result<Vec<Event>, ReadBackError> {
        let text = match std::fs::read_to_string(scratch.join("events.jsonl")) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ReadBackError::read(e)),
        };
        text.lines()
            .map(|l| Event::from_json(l).map_err(ReadBackError::read))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonl_target_conforms() {
    run(&JsonlHarness).await.unwrap();
}
