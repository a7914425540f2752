//! Archived objects are written create-only: an object already under a segment's name
//! with other bytes (another store's, or changed in the archive) is never replaced:
//! the prune is refused naming the object and both contents, deletes and records
//! nothing, and the object stays as it was. The one object that may be replaced is
//! this store's own earlier upload of a segment that a late event was appended to
//! since (its bytes are the start of the file's): it is archived whole.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_integrity::{ArchiveError, IntegrityError};
use auditrail_store::StoreFiles;
use retention_support::{
    archive_in, chain, days_of, is_day, jan, prune_archiving, verify_archive, Store,
};
use sha2::{Digest, Sha256};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_with_other_bytes_blocks_the_prune_and_stays() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("archive");
    let archive = archive_in(&folder);
    let mut store = Store::new();
    // One segment per partition: a late event appends to it.
    store.config.segment_max_bytes = 1 << 20;
    let open = store.open();
    store.write_days(&open, 1..=5, 60).await;
    let root = store.root.clone();
    let of_day = |day: u32| -> Vec<String> {
        StoreFiles::walk(&root)
            .unwrap()
            .segments()
            .filter(|s| is_day(s.rel.rsplit_once('/').unwrap().0, day))
            .map(|s| s.rel.clone())
            .collect()
    };

    // An earlier pass uploaded day 1 and stopped there (its partitions then changed:
    // a late event of day 1 appends to one of its segments).
    for rel in of_day(1) {
        archive.upload(&store.root.join(&rel), &rel).await.unwrap();
    }
    let late = store.event(1);
    let topic = late.topic.to_string();
    store.send(&open, vec![late], 1).await;
    // The chain head (never deleted) back in day 5.
    let next = store.event(5);
    store.send(&open, vec![next], 5).await;
    let grown = of_day(1)
        .into_iter()
        .find(|rel| rel.starts_with(&format!("{topic}/")))
        .unwrap();
    let uploaded = std::fs::read(folder.join(&grown)).unwrap();
    let now = std::fs::read(store.root.join(&grown)).unwrap();
    assert!(now.len() > uploaded.len() && now.starts_with(&uploaded));

    // Under the name of a day-2 segment, bytes that are not the store's.
    let victim = of_day(2).remove(0);
    let foreign = b"{\"not\":\"this store's segment\"}\n".to_vec();
    std::fs::create_dir_all(folder.join(&victim).parent().unwrap()).unwrap();
    std::fs::write(folder.join(&victim), &foreign).unwrap();
    let log = store.root.join("checkpoints.jsonl");
    let log_before = std::fs::read_to_string(&log).unwrap();

    let err = prune_archiving(&open, &archive, jan(3), jan(6))
        .await
        .unwrap_err();
    let text = chain(&err);
    let IntegrityError::Archive { source, .. } = &err else {
        panic!("expected an archive error, got {text}");
    };
    let ArchiveError::Exists {
        object,
        bytes,
        sha256,
        ..
    } = source.as_ref()
    else {
        panic!("expected an existing object, got {text}");
    };
    assert_eq!(object, &victim, "{text}");
    let local = std::fs::read(store.root.join(&victim)).unwrap();
    assert_eq!(*bytes, local.len() as u64);
    assert_eq!(sha256, &hex::encode(Sha256::digest(&local)));
    assert!(
        text.contains("nothing was deleted")
            && text.contains(&format!(
                "{} bytes with SHA-256 {}",
                foreign.len(),
                hex::encode(Sha256::digest(&foreign))
            ))
            && text.contains("never replaced"),
        "{text}"
    );
    // Nothing deleted, nothing recorded, the object as it was.
    assert_eq!(days_of(&store.partitions()), vec![1, 2, 3, 4, 5]);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), log_before);
    assert_eq!(std::fs::read(folder.join(&victim)).unwrap(), foreign);
    assert_eq!(open.integrity.prune_stats().archive_failures, 1);

    // Once the foreign object is gone, the prune goes through; the grown segment is
    // archived whole, as the deletion line records it.
    std::fs::remove_file(folder.join(&victim)).unwrap();
    let passes = prune_archiving(&open, &archive, jan(3), jan(6))
        .await
        .unwrap();
    assert_eq!(passes.len(), 1);
    assert_eq!(days_of(&store.partitions()), vec![3, 4, 5]);
    let objects = &passes[0]
        .checkpoint
        .as_ref()
        .and_then(|c| c.deleted.as_ref())
        .and_then(|d| d.archived.as_ref())
        .unwrap()
        .objects;
    let recorded = objects.iter().find(|o| o.path == grown).unwrap();
    assert_eq!(recorded.bytes, now.len() as u64);
    assert_eq!(std::fs::read(folder.join(&grown)).unwrap(), now);
    let report = verify_archive(&archive, &store.signer).await;
    assert!(report.ok, "{report}");
    store.close(open).await;
}
