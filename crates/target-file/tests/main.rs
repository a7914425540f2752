//! The integration tests of `auditrail-target-file`, one behaviour per file, built as one test
//! binary (each file is a module here). A binary per file linked the whole dependency
//! graph once per file: the workspace's ~450 test binaries took about 60 GB of disk and
//! a CI run failed with "No space left on device". A test that needs a process of its
//! own (process-wide state: working directory, tracing subscriber, target inventory,
//! open-file count) stays a `[[test]]` of its own in Cargo.toml, saying why; xtask's
//! tidy test checks that every file under `tests/` is one or the other.
// Test code: a failed unwrap is a failed test (the support modules count on this).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod a_file_target_that_cannot_start_leaves_the_others_running_and_starts_once_it_can;
mod a_folder_in_the_run_folder_however_spelled_is_not_made_again_while_the_run_folder_is_moved_away;
mod a_target_blocking_its_thread_does_not_stop_the_file_target;
mod acked_emit_says_whether_its_targets_are_durable;
mod concurrent_emitters_write_whole_lines;
mod conformance;
mod corrupt_line_hides_no_other_line;
mod corrupt_line_is_a_read_error;
mod deleted_file_is_recreated_whatever_the_rotation;
mod deleted_folder_is_recreated_whatever_the_rotation;
mod emit_refuses_a_nan_or_infinite_number_naming_the_field;
mod file_targets_whose_files_meet_are_refused_at_build;
mod folder_that_is_a_regular_file_is_named_as_not_a_folder;
mod fsync_modes;
mod full_disk_is_retried_not_lost;
mod moved_file_is_replaced_whatever_the_rotation;
mod reader_gives_back_each_message_exactly_as_written;
mod registered_as_file;
mod round_trip_of_every_field;
mod size_retention_applies_a_lowered_max_files;
mod size_rotation_and_retention;
mod symlink_at_the_audit_file_is_never_written_through;
mod symlink_at_the_lock_file_is_never_followed;
mod time_retention_keeps_fresh_files_over_files_named_while_the_clock_was_ahead;
mod time_retention_leaves_the_other_rotations_files;
mod time_rotation_and_retention;
mod torn_lines_are_skipped_on_read;
mod unwritable_directory_fails_at_build;
