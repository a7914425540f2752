//! The integration tests of `auditrail-query`, one behaviour per file, built as one test
//! binary (each file is a module here). A binary per file linked the whole dependency
//! graph once per file: the workspace's ~450 test binaries took about 60 GB of disk and
//! a CI run failed with "No space left on device". A test that needs a process of its
//! own (process-wide state: working directory, tracing subscriber, target inventory,
//! open-file count) stays a `[[test]]` of its own in Cargo.toml, saying why; xtask's
//! tidy test checks that every file under `tests/` is one or the other.
// Test code: a failed unwrap is a failed test (the support modules count on this).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_answers_mean_latency_is_taken_from_an_exact_sum;
mod common;

mod a_column_named_as_a_hidden_sort_column_is_said_so;
mod a_file_removed_after_it_was_listed_is_counted_as_removed;
mod a_join_outgrowing_the_memory_limit_fails_as_the_memory_limit;
mod a_leap_second_in_a_time_expression_is_refused;
mod a_refused_statement_is_named_under_explain_and_after_with;
mod a_store_moved_behind_a_symbolic_link_is_found_under_its_data_dir;
mod a_time_expression_finer_than_the_millisecond_is_refused;
mod an_audit_file_moved_after_it_was_listed_is_read_where_it_went;
mod an_audit_file_removed_after_it_was_listed_is_left_out_not_an_error;
mod api_answers_keep_a_service_named_like_no_routing_key_apart;
mod api_answers_leave_out_a_latency_just_past_2_pow_53;
mod compute_adds_cpu_times_exactly;
mod compute_keeps_a_project_named_none_apart_from_usages_without_one;
mod compute_leaves_out_a_cpu_total_just_past_2_pow_53;
mod compute_takes_the_last_update_of_a_usage_as_its_totals;
mod failed_logins_keep_each_client_ip_as_sent;
mod pruning_reads_only_window;
mod reports_answer_for_any_stored_year;
mod reports_known_answers;
