//! `verify --live` beside a server whose retention works through a backlog: its passes
//! run back to back, so every walk verify makes can overlap several prunes, more than
//! verify walks a store again. Each prune signs its deletion line, then removes the
//! partitions' files, after verify read the log and listed the files. The records and
//! files those signed lines delete are not missing: verify reads the log again after
//! its walk and tells them apart, however many prunes ran (it used to walk again, at
//! most 3 times, and keep the last walk's errors: a healthy store FAILED).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use std::sync::Mutex;

use auditrail_integrity::verify::{self, Progress, VerifyOptions};
use retention_support::{days_of, errors, jan, prune_before, Open, Store};

/// Prunes run at each start of a walk (after verify read the log and listed the
/// files, before it reads them).
const PRUNES_PER_WALK: u32 = 4;
/// Days written; the prunes delete one day each, oldest first, up to `LAST_PRUNED`.
const DAYS: u32 = 14;
const LAST_PRUNED: u32 = 12;

/// Deletes the next `PRUNES_PER_WALK` days, one prune each, whenever a walk starts.
struct PrunesWhenEachWalkStarts<'a> {
    open: &'a Open,
    /// The next day to prune.
    next: Mutex<u32>,
}

impl Progress for PrunesWhenEachWalkStarts<'_> {
    fn start(&self, _total_bytes: u64) {
        let mut next = self.next.lock().unwrap();
        for _ in 0..PRUNES_PER_WALK {
            if *next > LAST_PRUNED {
                return;
            }
            let day = *next;
            let pruned = tokio::runtime::Handle::current().block_on(prune_before(
                self.open,
                jan(day + 1),
                jan(DAYS + 6),
            ));
            assert!(!pruned.is_empty(), "the prune deleted day {day}");
            *next += 1;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prunes_during_every_walk_are_not_reported_as_missing_records() {
    let mut store = Store::new();
    let open = store.open();
    store.write_days(&open, 1..=DAYS, 60).await;
    let options = VerifyOptions {
        public_key: Some(*store.signer.public_key()),
        live: true,
        ..VerifyOptions::default()
    };
    let progress = PrunesWhenEachWalkStarts {
        open: &open,
        next: Mutex::new(1),
    };
    let report =
        tokio::task::block_in_place(|| verify::verify(&store.root, &options, &progress)).unwrap();
    let pruned_through = *progress.next.lock().unwrap() - 1;
    assert!(
        pruned_through >= PRUNES_PER_WALK,
        "at least {PRUNES_PER_WALK} prunes ran during the walk (more than verify walks a store)"
    );
    assert!(errors(&report).is_empty(), "{report}");
    assert!(report.ok, "{report}");
    let excused = report.stores[0].deleted_during_walk.as_deref();
    assert!(
        excused.is_some_and(|e| e.contains("deleted by prunes whose signed lines")),
        "the report says what went during the walk: {report}"
    );
    assert!(
        days_of(&store.partitions())
            .iter()
            .all(|&d| d > pruned_through),
        "days 1 to {pruned_through} pruned"
    );
    store.close(open).await;
}
