//! `verify --live` tells records a prune signed for during its walk from records gone
//! without a signed deletion: a record file removed by hand while the server's
//! retention prunes (several prunes during each walk) is still reported, its records
//! missing, while the pruned records are not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use std::path::PathBuf;
use std::sync::Mutex;

use auditrail_integrity::verify::{self, ProblemKind, Progress, Severity, VerifyOptions};
use auditrail_store::StoreFiles;
use retention_support::{is_day, jan, prune_before, Open, Store};

const DAYS: u32 = 14;
/// The day whose file is removed by hand (no prune deletes it).
const BY_HAND: u32 = 13;

/// At each start of a walk: three prunes (one day each), and the first time, the
/// removal of `file` by hand.
struct PrunesAndARemovalWhenEachWalkStarts<'a> {
    open: &'a Open,
    next: Mutex<u32>,
    file: Mutex<Option<PathBuf>>,
}

impl Progress for PrunesAndARemovalWhenEachWalkStarts<'_> {
    fn start(&self, _total_bytes: u64) {
        let mut next = self.next.lock().unwrap();
        for _ in 0..3 {
            if *next > 9 {
                break;
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
        if let Some(f) = self.file.lock().unwrap().take() {
            std::fs::remove_file(f).unwrap();
        }
    }
}

/// The chainSeq of the first record of `file`.
fn first_seq(file: &std::path::Path) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    line["chainSeq"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_removed_by_hand_during_prunes_is_still_reported_missing() {
    let mut store = Store::new();
    let open = store.open();
    store.write_days(&open, 1..=DAYS, 60).await;
    let files = StoreFiles::walk(&store.root).unwrap();
    let removed = files
        .segments()
        .find(|f| is_day(f.rel.rsplit_once('/').unwrap().0, BY_HAND))
        .unwrap();
    let (path, rel) = (removed.path.clone(), removed.rel.clone());
    let seq = first_seq(&path);
    let options = VerifyOptions {
        public_key: Some(*store.signer.public_key()),
        live: true,
        ..VerifyOptions::default()
    };
    let progress = PrunesAndARemovalWhenEachWalkStarts {
        open: &open,
        next: Mutex::new(1),
        file: Mutex::new(Some(path.clone())),
    };
    let report =
        tokio::task::block_in_place(|| verify::verify(&store.root, &options, &progress)).unwrap();
    assert!(!path.exists(), "the file was removed during the walk");
    assert!(
        *progress.next.lock().unwrap() > 3,
        "prunes ran during the walk"
    );
    assert!(!report.ok, "{report}");
    let errors: Vec<_> = report
        .problems()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    assert!(
        errors.iter().any(|p| p.kind == ProblemKind::MissingRecords
            && p.first_seq.is_some_and(|f| f <= seq)
            && p.last_seq.is_some_and(|l| l >= seq)),
        "chainSeq {seq}, the first record of {rel}, is reported missing:\n{report}"
    );
    store.close(open).await;
}
