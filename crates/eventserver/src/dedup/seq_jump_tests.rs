//! A node's `seq` jumping far ahead (to 2^64 - 1: a bug, a node whose sequence state
//! was replaced, a forged event) made `missing` about 1.8e19, the "gaps in a node's
//! sequence" alert's value, for one event. A gap longer than [`SEQ_JUMP_LIMIT`] is now
//! a `seqJumps` entry, not `missing`; a gap of exactly that many numbers is still
//! missing, as is one the jump leaves below it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auditrail_core::Event;

use super::{Dedup, DedupConfig, Gap, NodeStats, SEQ_JUMP_LIMIT};

fn ev(node: &str, seq: u64, id: u128) -> Event {
    Event::from_json(&format!(
        r#"{{"id":"{}","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"{node}","seq":{seq},"message":{{"msgType":"m"}}}}"#,
        uuid::Uuid::from_u128(id).hyphenated()
    ))
    .unwrap()
}

fn stats(d: &Dedup, node: &str) -> NodeStats {
    d.node_stats().into_iter().find(|s| s.node == node).unwrap()
}

#[tokio::test]
async fn a_jump_to_the_last_seq_is_a_jump_not_missing_events() {
    let d = Dedup::new(DedupConfig::default());
    // 1, 2, 4 (3 lost), then u64::MAX.
    let evs = [
        ev("a", 1, 1),
        ev("a", 2, 2),
        ev("a", 4, 4),
        ev("a", u64::MAX, 5),
    ];
    d.admit(&evs).await.commit();
    let a = stats(&d, "a");
    assert_eq!(a.highest_seq, u64::MAX);
    assert_eq!(a.gaps, [Gap { first: 3, last: 3 }]);
    assert_eq!(a.missing, 1, "{a:?}");
    assert_eq!(
        a.seq_jumps,
        [Gap {
            first: 5,
            last: u64::MAX - 1
        }]
    );
    assert_eq!(a.highest_contiguous_seq, 2);
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["seqJumps"][0]["first"], 5, "{json}");
}

#[tokio::test]
async fn a_gap_of_exactly_the_limit_is_missing_one_more_is_a_jump() {
    let d = Dedup::new(DedupConfig::default());
    let at_limit = SEQ_JUMP_LIMIT + 2;
    d.admit(&[ev("a", 1, 1), ev("a", at_limit, 2)])
        .await
        .commit();
    let a = stats(&d, "a");
    assert_eq!((a.missing, a.seq_jumps.len()), (SEQ_JUMP_LIMIT, 0), "{a:?}");
    d.admit(&[ev("b", 1, 3), ev("b", at_limit + 1, 4)])
        .await
        .commit();
    let b = stats(&d, "b");
    assert_eq!((b.missing, b.gaps.len()), (0, 0), "{b:?}");
    assert_eq!(
        b.seq_jumps,
        [Gap {
            first: 2,
            last: at_limit
        }]
    );
}
