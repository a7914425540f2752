//! The core conformance suite against real files, read back with the crate's reader.

use std::path::Path;

use auditrail_core::testing::conformance::{run, Harness, ReadBackError};
use auditrail_core::{async_trait, Event, TargetRegistration};
use serde_json::{json, Value};

struct FileHarness {
    fsync: bool,
}

#[async_trait]
impl Harness for FileHarness {
    fn registration(&self) -> &'static TargetRegistration {
        &auditrail_target_file::REGISTRATION
    }

    fn config(&self, scratch: &Path) -> Value {
        json!({ "dir": scratch.join("audit"), "fsync": self.fsync })
    }

    async fn read_back(&self, scratch: &Path) -> Result<Vec<Event>, ReadBackError> {
        let read = auditrail_target_file::read_audit_dir(scratch.join("audit"), "audit.log")
            .map_err(ReadBackError::read)?;
        if !read.torn.is_empty() {
            return Err(ReadBackError::Invalid(format!(
                "torn lines in a healthy run: {:?}",
                read.torn
            )));
        }
        Ok(read.events)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_target_conforms_with_fsync() {
    run(&FileHarness { fsync: true }).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_target_conforms_without_fsync() {
    run(&FileHarness { fsync: false }).await.unwrap();
}
