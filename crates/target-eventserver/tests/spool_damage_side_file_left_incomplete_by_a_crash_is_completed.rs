//! A crash while damaged spool bytes were being copied aside can leave their side file
//! empty or cut short (an earlier version created it before filling it). The next
//! start, finding the same damage, does not take that file for a complete copy: the
//! side file ends up holding exactly the damaged bytes, before the segment (the only
//! other copy) is delivered and deleted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::spool_support;

use auditrail_target_eventserver::spool::{damage, record};

fn side_file_is_completed(left_by_the_crash: impl Fn(&[u8]) -> Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = spool_support::open(dir.path(), 1 << 20);
    let (buf, offsets) = spool_support::records_at(0, 10);
    spool.append(&buf, 10).unwrap();
    drop(spool);
    let seg = spool_support::segment_files(dir.path()).remove(0);
    let mut bytes = std::fs::read(&seg).unwrap();
    let (from, to) = (offsets[4] as usize, offsets[5] as usize);
    bytes[from + record::HEADER + 3] ^= 0x20;
    std::fs::write(&seg, &bytes).unwrap();
    let damaged = &bytes[from..to];
    let side = dir.path().join(format!(
        "{:020}-{from}.seg.corrupt",
        spool_support::id_of(&seg)
    ));
    std::fs::write(&side, left_by_the_crash(damaged)).unwrap();

    let (spool, metrics) = spool_support::open(dir.path(), 1 << 20);
    assert_eq!(spool_support::deliver(&spool).len(), 9);
    assert_eq!(metrics.snapshot().damaged_ranges, 1);
    assert_eq!(std::fs::read(&side).unwrap(), damaged, "the damaged bytes");
    let kept = damage::list(dir.path()).unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].path, side);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with(".tmp")),
        "no temporary file left: {names:?}"
    );
    drop(spool);
}

#[test]
fn an_empty_side_file_left_by_a_crash_gets_the_damaged_bytes() {
    side_file_is_completed(|_| Vec::new());
}

#[test]
fn a_side_file_cut_short_by_a_crash_gets_the_damaged_bytes() {
    side_file_is_completed(|damaged| damaged[..damaged.len() / 2].to_vec());
}
