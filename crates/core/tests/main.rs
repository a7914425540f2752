//! The integration tests of `auditrail-core`, one behaviour per file, built as one test
//! binary (each file is a module here). A binary per file linked the whole dependency
//! graph once per file: the workspace's ~450 test binaries took about 60 GB of disk and
//! a CI run failed with "No space left on device". A test that needs a process of its
//! own (process-wide state: working directory, tracing subscriber, target inventory,
//! open-file count) stays a `[[test]]` of its own in Cargo.toml, saying why; xtask's
//! tidy test checks that every file under `tests/` is one or the other.
// Test code: a failed unwrap is a failed test (the support modules count on this).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod acked_emit_fails_on_permanent_error;
mod acked_emit_fails_when_a_target_worker_is_gone;
mod acked_emit_resolves_after_every_accepting_target_took_it;
mod batch_ack_reports_each_routes_outcome_per_event;
mod batch_wait_ends_for_an_acked_emit;
mod build_failure_inside_async_code_is_returned_not_a_panic;
mod builder_refuses_target_names_a_config_would_refuse;
mod config_bad_topics_list_is_named_with_position;
mod config_duration_settings_have_an_upper_bound;
mod config_entry_errors_carry_section_index_name_and_key;
mod config_json_is_accepted;
mod config_metrics_table_is_parsed_and_checked;
mod config_missing_type_is_named_with_position;
mod config_required_key_is_refused_in_a_node_target;
mod config_toml_syntax_error_names_file_and_line;
mod config_unknown_target_key_is_named_with_position;
mod config_unknown_top_level_key_is_named;
mod dead_letter_file_replaced_by_a_link_is_not_written_through;
mod dead_letters_after_the_file_is_removed_or_moved_land_at_its_path;
mod delivered_events_are_freed;
mod drop_on_current_thread_runtime_does_not_deadlock;
mod drop_policy_counts_every_drop;
mod emit_on_own_current_thread_runtime_refuses_instead_of_deadlocking;
mod filters_route_events_by_topic_and_routing_key;
mod flush_delivers_held_batches_and_flushes_targets;
mod flush_fails_instead_of_hanging_when_the_watchdog_gives_up_a_target;
mod full_queue_makes_emitter_wait_and_loses_nothing;
mod panicking_target_is_retried_and_isolated;
mod permanent_error_goes_to_dead_letter_file;
mod registry_duplicate_name_from_two_crates_is_an_error;
mod registry_empty_says_how_to_link_a_target;
mod registry_unknown_name_lists_registered_names_sorted;
mod rejected_indices_are_dead_lettered_the_rest_delivered;
mod retry_after_is_honoured_up_to_the_maximum_backoff;
mod retry_later_events_are_handed_back_not_retried;
mod retryable_errors_are_retried_until_success;
mod run_dir_is_used_by_one_dispatcher_at_a_time;
mod runtime_without_timers_is_refused_at_build;
mod send_timeout_turns_a_hung_send_into_retries;
mod seq_continues_after_clean_restart_and_skips_after_crash;
mod seq_continues_after_the_run_folder_was_removed_under_the_node;
mod seq_file_is_left_as_found_when_a_target_fails_to_build;
mod seq_strictly_increases_across_threads;
mod shutdown_deadline_holds_when_a_target_blocks_its_thread;
mod shutdown_deadline_holds_when_two_targets_block_and_an_emitter_waits;
mod shutdown_deadline_reports_and_dead_letters_undelivered;
mod shutdown_drains_every_queue;
mod shutdown_ends_the_batch_wait;
mod shutdown_report_of_a_target_blocked_in_shutdown_says_what_it_held;
mod shutdown_with_a_deadline_beyond_the_clock_ends_cleanly;
mod shutdown_with_emitter_blocked_on_dead_target_ends_at_deadline;
mod slow_target_does_not_delay_fast_one;
mod stats_reader_outlives_the_dispatcher_without_keeping_it;
mod stats_snapshot_counts_every_outcome;
mod sync_emit_inside_single_worker_runtime_waits_without_deadlock;
