//! A prune interrupted between its signed line and removing the files (files the log
//! records as deleted are still there): `verify` warns and passes, their chain is still
//! checked, and the next prune removes them with a second record.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_integrity::verify::ProblemKind;
use retention_support::{copy_tree, days_of, errors, jan, of_kind, prune_before, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_left_by_an_interrupted_prune_warn_and_go_at_the_next() {
    let mut store = Store::new();
    let open = store.open();
    store.write_days(&open, 1..=5, 60).await;
    // What a crash after the line and before the removal leaves: the line, and the
    // files (copied back).
    let copy = store.dir.path().join("copy");
    copy_tree(&store.root, &copy);
    let passes = prune_before(&open, jan(3), jan(6)).await;
    assert_eq!(passes.len(), 1);
    store.close(open).await;
    for p in &passes[0].plan.partitions {
        copy_tree(&copy.join(&p.folder), &store.root.join(&p.folder));
    }
    assert_eq!(days_of(&store.partitions()), vec![1, 2, 3, 4, 5]);
    let report = store.verify(&[]);
    assert!(report.ok, "{report}");
    let warned = of_kind(&report, ProblemKind::DeletionIncomplete);
    assert_eq!(warned.len(), 1, "{report}");
    assert!(warned[0].contains("interrupted"), "{}", warned[0]);

    // Changed while "deleted": still caught (the chain is checked through them).
    let (seg, _) = {
        let f = auditrail_store::StoreFiles::walk(&store.root).unwrap();
        let s = f
            .segments()
            .find(|s| s.rel.contains("2026/01/01"))
            .unwrap()
            .clone();
        (s.path, ())
    };
    let original = std::fs::read(&seg).unwrap();
    let text = String::from_utf8(original.clone()).unwrap();
    std::fs::write(&seg, text.replacen("user-", "usr-x", 1)).unwrap();
    let tampered = store.verify(&[]);
    assert!(!tampered.ok, "{tampered}");
    assert!(!errors(&tampered).is_empty());
    std::fs::write(&seg, original).unwrap();

    // The next prune (after a restart) removes them, recorded again.
    let open = store.open();
    let again = prune_before(&open, jan(3), jan(6)).await;
    assert_eq!(again.len(), 1);
    store.close(open).await;
    assert_eq!(days_of(&store.partitions()), vec![3, 4, 5]);
    let report = store.verify(&[]);
    assert!(report.ok, "{report}");
    assert!(of_kind(&report, ProblemKind::DeletionIncomplete).is_empty());
    assert_eq!(report.stores[0].deletions, 2);
}
