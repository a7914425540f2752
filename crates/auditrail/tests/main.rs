//! The integration tests of `auditrail`, one behaviour per file, built as one test
//! binary (each file is a module here). A binary per file linked the whole dependency
//! graph once per file: the workspace's ~450 test binaries took about 60 GB of disk and
//! a CI run failed with "No space left on device". A test that needs a process of its
//! own (process-wide state: working directory, tracing subscriber, target inventory,
//! open-file count) stays a `[[test]]` of its own in Cargo.toml, saying why; xtask's
//! tidy test checks that every file under `tests/` is one or the other.
// Test code: a failed unwrap is a failed test (the support modules count on this).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod a_node_config_with_an_own_target_type_builds_when_its_registration_is_given;
mod errors_returned_from_main_print_as_their_message;
#[cfg(feature = "metrics")]
mod metrics_endpoint_format_follows_the_accept_q_values;
#[cfg(all(feature = "metrics", feature = "file", feature = "eventserver"))]
mod metrics_endpoint_serves_node_counters;
#[cfg(all(feature = "metrics", feature = "eventserver"))]
mod metrics_endpoint_shows_spooled_events_lost_by_hand;
