//! The integration tests of `auditrail-integrity`, one behaviour per file, built as one test
//! binary (each file is a module here). A binary per file linked the whole dependency
//! graph once per file: the workspace's ~450 test binaries took about 60 GB of disk and
//! a CI run failed with "No space left on device". A test that needs a process of its
//! own (process-wide state: working directory, tracing subscriber, target inventory,
//! open-file count) stays a `[[test]]` of its own in Cargo.toml, saying why; xtask's
//! tidy test checks that every file under `tests/` is one or the other.
// Test code: a failed unwrap is a failed test (the support modules count on this).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod integrity_support;
mod retention_support;

mod integrity_a_line_whose_mark_fails_is_forwarded_once;
mod integrity_archive_reads_refuse_a_fifo_or_an_oversize_file_at_once;
mod integrity_attach_store;
mod integrity_changed_byte;
mod integrity_checkpoint_log_tampering;
mod integrity_checkpoint_task_says_a_lasting_failure_once_and_its_end_once;
mod integrity_clean_store_verifies;
mod integrity_deleted_file;
mod integrity_deleted_line;
mod integrity_deleted_seqs_edited_is_named_by_verify;
mod integrity_forward_checkpoints;
mod integrity_honest_stores_of_every_layout_have_no_misplaced_record;
mod integrity_inserted_line;
mod integrity_live_file_removed_by_hand_during_prunes_is_missing_records;
mod integrity_live_file_removed_during_walk;
mod integrity_live_prune_during_walk;
mod integrity_live_prunes_during_every_walk_are_not_missing_records;
mod integrity_live_receipts_of_records_pruned_during_the_walk_hold;
mod integrity_live_unvouched_gap;
mod integrity_live_vouched_gap;
mod integrity_local_archive_object_that_is_a_fifo_is_refused_at_once;
mod integrity_problems_name_the_piece_of_their_checkpoint_line;
mod integrity_receipts;
mod integrity_record_moved_to_another_partition_folder_is_misplaced;
mod integrity_records_cut_from_the_end_of_another_partitions_segment_name_it;
mod integrity_removed_log_piece_is_named;
mod integrity_removed_partition_folder_is_named_as_possible;
mod integrity_resigned_with_another_key;
mod integrity_retention_archive_keeps_a_segment_moved_into_an_old_folder;
mod integrity_retention_archive_object_never_replaced;
mod integrity_retention_archive_prefix_of_another_store;
mod integrity_retention_archive_retried_pass;
mod integrity_retention_by_age;
mod integrity_retention_by_size;
mod integrity_retention_interrupted_prune;
mod integrity_retention_keeps_a_segment_moved_into_an_old_folder;
mod integrity_retention_never_removes_pieces_across_a_gap;
mod integrity_retention_never_signs_over_the_oldest_piece_removed_by_hand;
mod integrity_retention_on_a_full_disk_takes_the_reserve;
mod integrity_retention_removes_checkpoint_log_pieces;
mod integrity_retention_unexplained_deletion;
mod integrity_rewritten_chain;
mod integrity_rollback_is_placed_where_the_pieced_log_ends;
mod integrity_segment_copied_into_another_folder_is_named_the_copy;
mod integrity_segment_copied_under_another_name_in_its_folder_is_named_the_copy;
mod integrity_start_refuses_a_log_whose_oldest_pieces_were_removed_by_hand;
mod integrity_swapped_lines;
mod integrity_tree_heads;
mod integrity_truncated_file;
mod partition_store_behind_a_link_is_found_once;
mod store_accept_check_never_opens_what_is_at_the_marks_temporary_name;
