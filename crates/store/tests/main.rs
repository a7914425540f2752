//! The integration tests of `auditrail-store`, one behaviour per file, built as one test
//! binary (each file is a module here). A binary per file linked the whole dependency
//! graph once per file: the workspace's ~450 test binaries took about 60 GB of disk and
//! a CI run failed with "No space left on device". A test that needs a process of its
//! own (process-wide state: working directory, tracing subscriber, target inventory,
//! open-file count) stays a `[[test]]` of its own in Cargo.toml, saying why; xtask's
//! tidy test checks that every file under `tests/` is one or the other.
// Test code: a failed unwrap is a failed test (the support modules count on this).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod store_support;

mod store_acknowledged_records_never_cut;
mod store_chain_gap;
mod store_conformance;
mod store_corrupt_file;
mod store_disk_full;
mod store_durability;
mod store_file_at_a_new_segment_name_is_refused_not_appended_after;
mod store_generated_names_fit_the_file_system;
mod store_kill9;
mod store_layout_and_envelope;
mod store_link_at_a_new_segment_name_is_refused_not_written_through;
mod store_link_at_a_partition_folder_not_yet_used_is_refused_not_written_through;
mod store_moved_partition_folder_gets_a_new_segment;
mod store_partition_folder_moved_behind_a_link_is_refused_not_written_through;
mod store_receipt_lookup_tells_events_sharing_an_id_apart;
mod store_refuses_another_layout;
mod store_registration;
mod store_removed_partition_folder_gets_a_new_segment;
mod store_removed_partition_with_closed_file_is_written;
mod store_segment_roll;
mod store_single_writer;
mod store_single_writer_across_processes;
mod store_torn_tail;
mod store_truncated_segment_gets_a_new_segment;
mod store_unmakeable_partition_refuses_its_events_alone;
mod store_unwritable_partition_refuses_its_events_for_now;
