//! Partitions removed or moved aside while a store is open (the `store_*_partition_*`
//! tests): events by day, the day's folder, what is stored under it, the chain.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_core::Event;
use auditrail_store::chain::{parse_line, verify_link};
use auditrail_testkit::store::stored_in;

use super::{event, lines};

/// `count` events numbered from `first`, on day `day` of November 2026 (one partition
/// folder per day).
pub(crate) fn on_day(day: u32, first: u64, count: u64) -> Vec<Arc<Event>> {
    (first..first + count)
        .map(|n| event("generic", None, &format!("2026-11-{day}T10:00:00.000Z"), n))
        .collect()
}

pub(crate) fn day_folder(root: &Path, day: u32) -> PathBuf {
    root.join(format!("generic/_none/2026/11/{day}"))
}

/// The numbers (`seq`) of the events stored in a file under `folder`, sorted.
pub(crate) fn stored_under(root: &Path, folder: &Path) -> Vec<u64> {
    let mut seqs: Vec<u64> = stored_in(root)
        .into_iter()
        .filter(|(path, _)| path.starts_with(folder))
        .map(|(_, e)| e.seq)
        .collect();
    seqs.sort_unstable();
    seqs
}

/// Every record from chain number `from` on is in the store and links to the one
/// before it (the records before `from` went with the removed folder).
pub(crate) fn chain_holds_from(root: &Path, from: u64, to: u64) {
    let all = lines(root);
    let by_seq: HashMap<u64, _> = all
        .iter()
        .map(|(_, l)| {
            let p = parse_line(l).unwrap();
            (p.link.seq, p)
        })
        .collect();
    for seq in from + 1..=to {
        let prev = by_seq
            .get(&(seq - 1))
            .unwrap_or_else(|| panic!("record {} missing", seq - 1));
        let line = by_seq
            .get(&seq)
            .unwrap_or_else(|| panic!("record {seq} missing"));
        assert!(
            verify_link(&prev.link, line),
            "chain broken at record {seq}"
        );
    }
}

/// `result` refused the events at `indices` for now (`PartlyTaken`, nothing rejected for
/// good), each for a symbolic link in the store's way (the operator removes it).
pub(crate) fn assert_refused_for_now_for_a_link(
    result: Result<(), auditrail_core::TargetError>,
    indices: &[usize],
) {
    let Err(auditrail_core::TargetError::PartlyTaken {
        retry_later,
        rejected,
    }) = result
    else {
        panic!("events {indices:?} must be refused for now, the rest taken: {result:?}");
    };
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(
        retry_later.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        indices
    );
    for (_, why) in &retry_later {
        assert!(why.contains("is a symbolic link"), "{why}");
    }
}
