//! As `server_retry_of_a_batch_one_store_refused_for_now_leaves_one_record_in_each_store`,
//! with the server restarted between the refused try and the retry taken: the
//! de-duplication rebuilt at start from the stores knows that store `a` holds the
//! batch and `b` not, so the retry is written to `b` alone. Before, it was written to
//! both (two records of each event in `a`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_retry_of_a_batch_one_store_refused_for_now_leaves_one_record_in_each_store::{
    link_bs_folder_elsewhere, one_record_in_each_store, TWO_STORES,
};
use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_restart_is_written_only_to_the_store_that_refused_it() {
    let s = start(TWO_STORES).await;
    let link = link_bs_folder_elsewhere(&s).await;
    let batch: Vec<_> = (1..=3)
        .map(|seq| event_with("n2", seq, "other", None))
        .collect();
    let (status, _, body) = post(&s, ndjson(&batch), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("refused_for_now")),
        "{body}"
    );

    let dir = s.dir;
    s.running.shutdown().await;
    std::fs::remove_file(&link).unwrap();
    let config = config_from(dir.path(), TWO_STORES);
    let s = start_with(dir, config).await;

    let (status, _, body) = post(&s, ndjson(&batch), None).await;
    assert_eq!(status, 200, "{body}");
    one_record_in_each_store(&s, &batch, "after the restart and the retry taken");
    let (status, _, body) = post(&s, ndjson(&batch), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["duplicates"].as_u64(), Some(3), "{body}");
    one_record_in_each_store(&s, &batch, "after a retry of the answered batch");
    s.running.shutdown().await;
}
