//! A prune with archive before delete run again after it was interrupted, twice: after
//! its uploads (a crash before the deletion line), and after its deletion line (a
//! crash before the files were removed). Each re-run finds the objects it uploaded
//! already there with the same bytes, takes them as they are (create-only: an
//! archived object is never written again, not even with the same bytes) and
//! succeeds; the store and the archive verify.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use auditrail_store::PruneRule;
use retention_support::{
    archive_in, copy_tree, days_of, jan, prune_archiving, verify_archive, Store,
};

/// The inode of each object under `folder` named in `rels`: a rewritten object (even
/// with the same bytes) gets a new one.
fn inodes(folder: &Path, rels: &[String]) -> BTreeMap<String, u64> {
    rels.iter()
        .map(|rel| {
            (
                rel.clone(),
                std::fs::metadata(folder.join(rel)).unwrap().ino(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_run_takes_the_objects_already_uploaded() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("archive");
    let archive = archive_in(&folder);
    let mut store = Store::new();
    let open = store.open();
    store.write_days(&open, 1..=5, 60).await;
    let rule = PruneRule {
        before: Some(jan(3)),
        max_bytes: None,
        now: jan(6),
    };

    // Interrupted after its uploads: the objects are there, no deletion line.
    let plan = open
        .integrity
        .prune(rule, "dry run", true)
        .await
        .unwrap()
        .remove(0)
        .plan;
    let rels: Vec<String> = plan
        .partitions
        .iter()
        .flat_map(|p| p.segments.clone())
        .collect();
    for rel in &rels {
        archive.upload(&store.root.join(rel), rel).await.unwrap();
    }
    let uploaded = inodes(&folder, &rels);
    let copy = dir.path().join("copy");
    copy_tree(&store.root, &copy);

    let passes = prune_archiving(&open, &archive, jan(3), jan(6))
        .await
        .unwrap();
    assert_eq!(passes.len(), 1);
    assert_eq!(days_of(&store.partitions()), vec![3, 4, 5]);
    assert_eq!(
        inodes(&folder, &rels),
        uploaded,
        "an archived object was written again"
    );

    // Interrupted after its deletion line: the files it deleted are back (as a crash
    // before their removal leaves them); the next pass archives and removes them.
    for p in &passes[0].plan.partitions {
        copy_tree(&copy.join(&p.folder), &store.root.join(&p.folder));
    }
    assert_eq!(days_of(&store.partitions()), vec![1, 2, 3, 4, 5]);
    let again = prune_archiving(&open, &archive, jan(3), jan(6))
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(days_of(&store.partitions()), vec![3, 4, 5]);
    assert_eq!(inodes(&folder, &rels), uploaded);
    assert_eq!(open.integrity.prune_stats().archive_failures, 0);

    let report = verify_archive(&archive, &store.signer).await;
    assert!(report.ok, "{report}");
    assert_eq!(report.stores[0].records, plan.records, "{report}");
    store.close(open).await;
    let report = store.verify(&[]);
    assert!(report.ok, "{report}");
}
