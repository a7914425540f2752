//! The integration tests of `auditrail-target-eventserver`, one behaviour per file, built as one test
//! binary (each file is a module here). A binary per file linked the whole dependency
//! graph once per file: the workspace's ~450 test binaries took about 60 GB of disk and
//! a CI run failed with "No space left on device". A test that needs a process of its
//! own (process-wide state: working directory, tracing subscriber, target inventory,
//! open-file count) stays a `[[test]]` of its own in Cargo.toml, saying why; xtask's
//! tidy test checks that every file under `tests/` is one or the other.
// Test code: a failed unwrap is a failed test (the support modules count on this).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod spool_support;

mod a_200_whose_receipt_is_not_signed_by_its_key_acknowledges_nothing;
mod a_2xx_answer_that_is_not_the_servers_acknowledges_nothing;
mod a_redirect_that_would_change_the_request_is_not_followed_and_the_events_are_kept;
mod an_answer_is_read_only_up_to_a_bound;
mod client_key_that_cannot_be_used_stops_setup_naming_the_file;
mod conformance_against_the_real_server;
mod direct_mode_maps_http_answers;
mod pem_file_that_is_a_fifo_or_a_device_stops_setup_naming_the_file;
mod refusal_naming_the_events_line_gives_up_that_event_without_a_split;
mod registration;
mod retry_after_longer_than_the_maximum_backoff_is_capped;
mod send_max_wait_never_holds_back_answers_or_a_drain;
mod spool_ack_that_cannot_be_right_deletes_nothing_and_everything_is_sent_again;
mod spool_damage_side_file_left_incomplete_by_a_crash_is_completed;
mod spool_damaged_record_is_skipped_and_kept_aside;
mod spool_dir_that_is_a_regular_file_is_named_once;
mod spool_events_refused_one_by_one_leave_the_spool_as_they_are_found;
mod spool_folder_is_opened_by_one_spool_at_a_time;
mod spool_folder_removed_and_locked_by_another_process_is_not_shared;
mod spool_folder_removed_during_a_run_is_created_again_and_later_events_delivered;
mod spool_folder_that_cannot_be_made_stops_this_target_alone;
mod spool_head_length_is_recorded_when_the_shutdown_deadline_cuts_the_drain;
mod spool_head_segment_gone_during_a_run_goes_on_in_a_new_segment;
mod spool_middle_segment_gone_is_skipped_and_the_rest_delivered;
mod spool_mode_delivers_after_failures;
mod spool_on_a_disk_filled_to_the_last_byte_still_frees_its_delivered_room;
mod spool_on_a_full_disk_frees_the_room_of_delivered_events;
mod spool_on_a_full_disk_of_undelivered_events_refuses_the_append_saying_so;
mod spool_or_receipts_folder_that_is_a_regular_file_is_named_as_not_a_folder;
mod spool_read_while_appending_reports_no_cut;
mod spool_refuses_an_event_longer_than_a_spool_record_and_delivers_the_rest;
mod spool_segment_cut_in_place_between_runs_is_reported_as_lost;
mod spool_segment_cut_in_place_while_running_is_reported_as_lost;
mod spool_segment_deleted_between_runs_is_reported_and_later_events_delivered;
mod spool_segment_forgotten_as_gone_keeps_no_recorded_length;
mod spool_survives_reopen_and_damage;
mod spool_takes_a_batch_larger_than_the_spool;
mod spool_that_lost_its_folder_to_another_writes_no_state_file_there;
mod spool_torn_tail_after_a_crash_is_not_reported_as_lost;
