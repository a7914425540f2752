//! `verify --live --receipt` beside a server whose retention prunes the receipts'
//! records while verify walks: the receipts were acknowledged, then their records
//! deleted by a signed prune, so each holds as "deleted by a recorded deletion", as it
//! does offline. The walk held the gap back and the log read after it excused it, but
//! the receipts were still judged against the log read before the walk and the gap
//! counted among the walk's damaged ranges: every receipt of a pruned day failed as
//! "missing" and "missing, changed or out of order", a false alarm on evidence.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use std::sync::Mutex;

use auditrail_integrity::verify::{self, Progress, VerifyOptions};
use retention_support::{days_of, errors, jan, prune_before, Open, Store};

/// Runs the prune (once) when verify starts walking a store's files.
struct PruneWhenTheWalkStarts<'a> {
    open: &'a Open,
    done: Mutex<bool>,
}

impl Progress for PruneWhenTheWalkStarts<'_> {
    fn start(&self, _total_bytes: u64) {
        let mut done = self.done.lock().unwrap();
        if !*done {
            *done = true;
            let pruned =
                tokio::runtime::Handle::current().block_on(prune_before(self.open, jan(4), jan(7)));
            assert_eq!(pruned.len(), 1, "the prune deleted days 1 to 3");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_of_records_pruned_during_a_live_walk_hold_as_deleted() {
    let mut store = Store::new();
    let open = store.open();
    store.write_days(&open, 1..=6, 60).await;
    let options = VerifyOptions {
        public_key: Some(*store.signer.public_key()),
        live: true,
        receipts: store
            .receipts
            .iter()
            .enumerate()
            .map(|(i, (_, r))| (format!("receipt {i}"), r.clone()))
            .collect(),
        ..VerifyOptions::default()
    };
    let progress = PruneWhenTheWalkStarts {
        open: &open,
        done: Mutex::new(false),
    };
    let report =
        tokio::task::block_in_place(|| verify::verify(&store.root, &options, &progress)).unwrap();
    assert!(*progress.done.lock().unwrap(), "the prune ran");
    assert_eq!(days_of(&store.partitions()), vec![4, 5, 6]);
    assert!(errors(&report).is_empty(), "{report}");
    let failed: Vec<_> = report.receipts.iter().filter(|r| !r.ok).collect();
    assert!(failed.is_empty(), "receipts failed: {failed:#?}");
    // Batches of days 1 to 3 (and day 4's, carrying a late event of day 2) went.
    let deleted = report
        .receipts
        .iter()
        .filter(|r| r.deleted.is_some())
        .count();
    assert!(deleted >= 6, "{:#?}", report.receipts);
    assert!(report.ok, "{report}");
    store.close(open).await;
}
