//! The retry, after a restart, of a batch one of two stores refused for now: the
//! stores are right (`server_retry_of_a_batch_one_store_refused_for_now_after_a_restart_...`),
//! and the node's figures must be too. The start counts what the stores hold, store
//! `a`'s records of the batch among them, so the retry found its seqs already counted:
//! it was counted as `seqReused` (a WARN naming a node reset or a forged event, found
//! by the final tryout of stop 66) and the node's `count` went up a second time (6 for
//! 3 events). Now an event some of whose stores hold it is neither.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_retry_of_a_batch_one_store_refused_for_now_leaves_one_record_in_each_store::{
    link_bs_folder_elsewhere, one_record_in_each_store, TWO_STORES,
};
use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_is_counted_once_and_not_as_a_seq_reused() {
    let s = start(TWO_STORES).await;
    let link = link_bs_folder_elsewhere(&s).await;
    let batch: Vec<_> = (1..=3)
        .map(|seq| event_with("n2", seq, "other", None))
        .collect();
    let (status, _, body) = post(&s, ndjson(&batch), None).await;
    assert_eq!(status, 503, "{body}");

    let dir = s.dir;
    s.running.shutdown().await;
    std::fs::remove_file(&link).unwrap();
    let config = config_from(dir.path(), TWO_STORES);
    let s = start_with(dir, config).await;

    let (status, _, body) = post(&s, ndjson(&batch), None).await;
    assert_eq!(status, 200, "{body}");
    one_record_in_each_store(&s, &batch, "after the restart and the retry taken");
    let stats = get_json(&s, "/v1/stats").await;
    let node = &stats["nodes"]["n2"];
    assert_eq!(
        (node["count"].as_u64(), node["seqReused"].as_u64()),
        (Some(3), Some(0)),
        "{stats}"
    );
    s.running.shutdown().await;
}
