//! The integration tests of `auditrail-eventserver`, one behaviour per file, built as one test
//! binary (each file is a module here). A binary per file linked the whole dependency
//! graph once per file: the workspace's ~450 test binaries took about 60 GB of disk and
//! a CI run failed with "No space left on device". A test that needs a process of its
//! own (process-wide state: working directory, tracing subscriber, target inventory,
//! open-file count) stays a `[[test]]` of its own in Cargo.toml, saying why; xtask's
//! tidy test checks that every file under `tests/` is one or the other.
// Test code: a failed unwrap is a failed test (the support modules count on this).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ingest_support;
mod server_support;

mod kafka_source_event_refused_for_good_is_dead_lettered_and_the_partition_moves_on;
mod kafka_source_relative_ssl_files_are_taken_in_the_config_files_folder;
mod server_a_charset_inside_a_quoted_parameter_value_is_not_the_body_charset;
mod server_body_declared_in_another_charset_than_utf8_is_refused;
mod server_body_memory_budget;
mod server_byte_order_mark_is_skipped_at_the_body_start_and_named_on_another_line;
mod server_checkpoint_log_moved_away_acknowledges_nothing_until_it_is_back;
mod server_compressed_bodies;
mod server_concurrent_clients;
mod server_config_paths_are_in_the_config_files_folder;
mod server_different_events_sharing_an_id_are_both_stored;
mod server_duplicate_keys_refused;
mod server_duplicate_receipt_names_the_retried_event_not_another_with_its_id;
mod server_early_refusal_reaches_a_client_that_sends_first;
mod server_error_statuses;
mod server_event_dated_far_ahead_of_the_server_clock_is_refused;
mod server_flush_policy_not_durable;
mod server_free_space_floor;
mod server_graceful_shutdown;
mod server_key_ownership;
mod server_leap_second_event_is_in_the_window_of_the_day_it_was_sent;
mod server_many_partitions_low_file_limit;
mod server_metrics_cover_stats;
mod server_mtls_client_certificates;
mod server_mtls_reload_client_ca;
mod server_nesting_limit_every_reader;
mod server_node_table_forgets_the_least_recently_stored_node;
mod server_numbers_kept_exactly;
mod server_odd_names_stored_and_verified;
mod server_overload_and_ack_timeout;
mod server_partly_stored_batch_counts_its_stored_events_in_stats;
mod server_partly_stored_batch_shows_its_stored_events_live;
mod server_query;
mod server_query_form_value_of_the_wrong_type_is_refused_naming_the_parameter;
mod server_query_parameter_not_utf8_is_refused_naming_it;
mod server_query_post_refused_from_its_head_is_answered_to_a_client_that_sends_first;
mod server_query_statement_too_long_for_a_url_is_taken_as_a_post_form;
mod server_query_too_deep_an_expression_is_refused_on_the_servers_own_query_thread;
mod server_read_endpoints;
mod server_receipt_covers_every_event_sharing_an_id;
mod server_receipts_in_answers;
mod server_recent_filters;
mod server_recent_keeps_large_events_as_stubs;
mod server_refused_body_gives_back_its_memory;
mod server_refuses_a_signing_pub_that_is_not_its_keys;
mod server_reserved_root_names;
mod server_restart_keeps_each_nodes_real_gaps;
mod server_retry_after_restart_is_a_duplicate_by_content;
mod server_seal_that_fails_is_answered_unsealed_at_once_naming_why;
mod server_sequence_number_out_of_range_is_refused_without_quoting_a_rounded_value;
mod server_sighup_reloads_tls_certificate;
mod server_signing_key;
mod server_slow_uploads_hold_no_batch_slot;
mod server_stalled_upload_answered_408;
mod server_stats_lists_nodes_a_page_at_a_time;
mod server_stream_follows;
mod server_tls;
mod server_tls_idle_connections_are_closed;
mod server_tls_key_cut_short_is_named_not_blamed_on_the_pair;
mod server_unrouted_events_refused;
mod server_unstorable_event_fails_alone;
mod server_unwritable_partition_refuses_its_events_for_now;
mod server_window_whose_start_is_not_before_its_end_is_refused_naming_both;
