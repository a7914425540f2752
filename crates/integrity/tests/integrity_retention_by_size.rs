//! Retention by size: while the store's segments take more than the limit, the closed
//! partitions that ended first are deleted (oldest days first, never the current one),
//! each deletion recorded; `verify` passes afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_store::PruneRule;
use retention_support::{days_of, jan, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_by_size_deletes_the_oldest_days_until_under_the_limit() {
    let mut store = Store::new();
    let open = store.open();
    store.write_days(&open, 1..=6, 90).await;
    let full = store.bytes();
    let limit = full / 2;
    let passes = open
        .integrity
        .prune(
            PruneRule {
                before: None,
                max_bytes: Some(limit),
                now: jan(7),
            },
            "size",
            false,
        )
        .await
        .unwrap();
    assert_eq!(passes.len(), 1);
    let left = store.bytes();
    assert!(left <= limit, "{left} bytes left, limit {limit}");
    // Oldest first: what is left is a run of the newest days.
    let days = days_of(&store.partitions());
    let first = days[0];
    assert!(first > 1, "{days:?}");
    assert_eq!(days, (first..=6).collect::<Vec<_>>());
    // Deleting stopped as soon as the store fitted: one more day would have been
    // too much.
    let deleted: u64 = passes[0].plan.bytes;
    assert_eq!(full - deleted, left);

    // Partitions whose day has not ended are never deleted, whatever the size.
    let none = open
        .integrity
        .prune(
            PruneRule {
                before: None,
                max_bytes: Some(1),
                now: jan(first),
            },
            "size",
            false,
        )
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    store.close(open).await;
    let report = store.verify(&store.receipts);
    assert!(report.ok, "{report}");
}
