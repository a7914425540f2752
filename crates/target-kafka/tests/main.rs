//! The integration tests of `auditrail-target-kafka`, one behaviour per file, built as one test
//! binary (each file is a module here). A binary per file linked the whole dependency
//! graph once per file: the workspace's ~450 test binaries took about 60 GB of disk and
//! a CI run failed with "No space left on device". A test that needs a process of its
//! own (process-wide state: working directory, tracing subscriber, target inventory,
//! open-file count) stays a `[[test]]` of its own in Cargo.toml, saying why; xtask's
//! tidy test checks that every file under `tests/` is one or the other.
// Test code: a failed unwrap is a failed test (the support modules count on this).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod broker_restart;
mod config_errors;
mod conformance;
mod dead_letter_at_the_shutdown_deadline_names_the_client_error;
mod dead_letter_authorization_failure;
mod dead_letter_oversized_record;
mod dead_letter_unknown_topic;
mod filters;
mod fixed_topic_record_layout;
mod ordering_within_partition;
mod registration;
mod relative_ssl_files_are_taken_in_the_config_files_folder;
mod retry_skips_confirmed_records;
mod templated_topic;
