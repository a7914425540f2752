//! A retried event whose record is the oldest the store still remembers (the record
//! before it has left the ring of recent links) and whose bytes were changed in place,
//! same length, its chain fields kept: the store does not vouch for it
//! ([`StoreHandle::records_gone`] finds it changed, as it does for any other record
//! of the ring), so the server stores the event again instead of answering it as a
//! stored duplicate. The store keeps the link that left the ring last to hash the
//! oldest record's bytes against; it used to check that record by its chain fields
//! alone. Written one batch at a time, in one batch, and read back at a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_core::Event;
use auditrail_testkit::store::{events, stored_in};

use crate::place::WhyGone;
use crate::{StoreHandle, StoreTarget};

/// Records the ring keeps in these tests: six written, the first two leave it.
const RING: usize = 4;

fn open(root: &Path) -> StoreTarget {
    let config: crate::StoreConfig =
        serde_json::from_value(serde_json::json!({"path": "store"})).unwrap();
    let t = StoreTarget::open(root, &config, "store").unwrap();
    t.handle().cell.shared.set_recent_capacity(RING);
    t
}

fn store_root() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap().join("store");
    (dir, root)
}

/// Changes one byte of the body of the record of event `n` (`user-N` becomes
/// `usex-N`), keeping its length and its chain fields.
fn change_in_place(root: &Path, n: u64) {
    let (file, _) = stored_in(root)
        .into_iter()
        .find(|(_, e)| e.seq == n)
        .unwrap();
    let mut bytes = std::fs::read(&file).unwrap();
    let needle = format!("\"user-{n}\"");
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap();
    bytes[at + 4] = b'x';
    // Same inode, same length: only the line's bytes differ.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
        .unwrap();
}

/// The record of the third of six events, the oldest the ring holds, is vouched for
/// while intact, and found changed once its bytes are.
fn check(handle: &StoreHandle, root: &Path, sent: &[Arc<Event>]) {
    let key = |n: usize| StoreHandle::receipt_key(&sent[n - 1]);
    // The third is the oldest record the ring holds; the second left it.
    assert!(handle.links(&[key(3)])[0].is_some());
    assert_eq!(handle.links(&[key(2)]), vec![None]);
    assert_eq!(handle.records_gone(&[key(3)]), vec![None]);

    change_in_place(root, 3);
    let gone = handle.records_gone(&[key(3)]);
    let Some(Some(gone)) = gone.first() else {
        panic!("a changed record is vouched for: {gone:?}");
    };
    assert!(
        matches!(gone.why, WhyGone::Changed { seq: 3, .. }),
        "{gone:?}"
    );
    assert!(!gone.deleted_by_retention);
    assert_eq!(handle.stats().records_gone, 1);
}

#[test]
fn written_one_batch_at_a_time() {
    let (_dir, root) = store_root();
    let t = open(&root);
    let sent = events(1, 6);
    for e in &sent {
        t.send_blocking(std::slice::from_ref(e)).unwrap();
    }
    check(&t.handle(), &root, &sent);
}

#[test]
fn written_in_one_batch() {
    let (_dir, root) = store_root();
    let t = open(&root);
    let sent = events(1, 6);
    t.send_blocking(&sent).unwrap();
    check(&t.handle(), &root, &sent);
}

#[test]
fn read_back_at_a_restart() {
    let (_dir, root) = store_root();
    let sent = events(1, 6);
    drop({
        let t = open(&root);
        t.send_blocking(&sent).unwrap();
        t
    });
    let t = open(&root);
    let handle = t.handle();
    handle
        .scan_records_keyed(|_, record| {
            Some(crate::ReceiptKey {
                id: record.event.id,
                tag: record
                    .event
                    .identity_hash(crate::identity::receipt_tag_key()),
            })
        })
        .unwrap();
    check(&handle, &root, &sent);
}
