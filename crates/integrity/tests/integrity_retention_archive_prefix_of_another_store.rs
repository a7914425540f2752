//! Two stores (an HA pair deployed from one config template) archiving to one
//! `file://` prefix: their segments have the same names (chain numbers start at 1 in
//! every store). The first store's prune claims the prefix (its `store-id`); the
//! second store's prune is refused, naming the prefix and both store ids, deletes and
//! records nothing, is counted as an archive failure, and leaves the first store's
//! archive as it was: every object in place, and it still verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_integrity::{ArchiveError, IntegrityError};
use retention_support::{
    archive_in, chain, days_of, files_under, jan, prune_archiving, verify_archive, Store,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_store_is_refused_and_the_first_archive_stays_whole() {
    let shared = tempfile::tempdir().unwrap();
    let folder = shared.path().join("archive");
    let archive = archive_in(&folder);

    let mut one = Store::new();
    let open_one = one.open();
    one.write_days(&open_one, 1..=5, 60).await;
    let mut two = Store::new();
    let open_two = two.open();
    two.write_days(&open_two, 1..=5, 60).await;
    let (id_one, id_two) = (
        open_one.integrity.store_id().to_string(),
        open_two.integrity.store_id().to_string(),
    );

    // The first store archives days 1 and 2, then deletes them.
    let passes = prune_archiving(&open_one, &archive, jan(3), jan(6))
        .await
        .unwrap();
    assert_eq!(passes.len(), 1);
    let archived = passes[0]
        .checkpoint
        .as_ref()
        .and_then(|c| c.deleted.as_ref())
        .and_then(|d| d.archived.as_ref())
        .unwrap()
        .objects
        .clone();
    assert!(!archived.is_empty());
    assert_eq!(days_of(&one.partitions()), vec![3, 4, 5]);
    assert_eq!(
        std::fs::read_to_string(folder.join("store-id"))
            .unwrap()
            .trim(),
        id_one
    );
    let first_archive = files_under(&folder);

    // The second store's prune: refused before any upload, nothing deleted.
    let log = two.root.join("checkpoints.jsonl");
    let log_before = std::fs::read_to_string(&log).unwrap();
    let err = prune_archiving(&open_two, &archive, jan(3), jan(6))
        .await
        .unwrap_err();
    let text = chain(&err);
    let IntegrityError::Archive { source, .. } = &err else {
        panic!("expected an archive error, got {text}");
    };
    let ArchiveError::OtherStore {
        url, found, ours, ..
    } = source.as_ref()
    else {
        panic!("expected another store's prefix, got {text}");
    };
    assert_eq!(url, archive.url());
    assert_eq!((found, ours), (&id_one, &id_two), "{text}");
    assert!(
        text.contains("nothing was deleted")
            && text.contains(archive.url())
            && text.contains(&id_one)
            && text.contains(&id_two),
        "{text}"
    );
    assert_eq!(days_of(&two.partitions()), vec![1, 2, 3, 4, 5]);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), log_before);
    let stats = open_two.integrity.prune_stats();
    assert_eq!((stats.archive_failures, stats.runs), (1, 0), "{stats:?}");

    // The first store's archive: every object as it was, and it verifies.
    assert_eq!(files_under(&folder), first_archive);
    for o in &archived {
        assert!(first_archive.contains_key(&o.path), "{} missing", o.path);
    }
    let report = verify_archive(&archive, &one.signer).await;
    assert!(report.ok, "{report}");
    assert_eq!(report.stores[0].records, passes[0].plan.records, "{report}");
    assert_eq!(report.stores[0].store_id.as_deref(), Some(id_one.as_str()));

    one.close(open_one).await;
    two.close(open_two).await;
    // The second store is intact.
    let report = two.verify(&[]);
    assert!(report.ok, "{report}");
}
