//! `verify --live` beside a server whose retention prunes while verify walks the files:
//! the prune records its deletion in the checkpoint log, then removes the partitions'
//! files, both after verify read the log and listed the files. Verify must not report
//! the pruned records as missing (a false tamper alarm on an untouched store): it reads
//! the log again after its walk, and the deletion line signed meanwhile covers them.
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
async fn a_prune_during_a_live_walk_is_not_reported_as_missing_records() {
    let mut store = Store::new();
    let open = store.open();
    store.write_days(&open, 1..=6, 60).await;
    let options = VerifyOptions {
        public_key: Some(*store.signer.public_key()),
        live: true,
        ..VerifyOptions::default()
    };
    let progress = PruneWhenTheWalkStarts {
        open: &open,
        done: Mutex::new(false),
    };
    let report =
        tokio::task::block_in_place(|| verify::verify(&store.root, &options, &progress)).unwrap();
    assert!(*progress.done.lock().unwrap(), "the prune ran");
    assert_eq!(
        days_of(&store.partitions()),
        vec![4, 5, 6],
        "days 1 to 3 pruned"
    );
    assert!(report.ok, "{report}");
    assert!(errors(&report).is_empty(), "{report}");
    // The walk checked against the log as read before it (no deletion yet); what
    // went during it is told apart by the log read again after it.
    assert!(
        report.stores[0].deleted_during_walk.is_some(),
        "the report says what went during the walk: {report}"
    );
    store.close(open).await;
}
