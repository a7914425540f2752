//! The per-node table is bounded whatever node ids clients invent (see the module
//! docs, "How many nodes"): the least recently stored node is forgotten first, its
//! counts go into one aggregate, and a node seen again starts afresh without false
//! gaps. Memory of the window is not what these tests are about.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auditrail_core::Event;

use super::{Dedup, DedupConfig, ForgottenNodes, NodeStats};

fn ev(node: &str, seq: u64, id: u128) -> Event {
    Event::from_json(&format!(
        r#"{{"id":"{}","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"{node}","seq":{seq},"message":{{"msgType":"m"}}}}"#,
        uuid::Uuid::from_u128(id).hyphenated()
    ))
    .unwrap()
}

fn bounded(max_nodes: usize, max_ranges_total: usize) -> Dedup {
    Dedup::new(DedupConfig {
        max_nodes,
        max_ranges_total,
        ..DedupConfig::default()
    })
}

async fn store(d: &Dedup, events: &[Event]) {
    let a = d.admit(events).await;
    assert_eq!(a.new().len(), events.len(), "all new");
    a.commit();
}

fn ids(d: &Dedup) -> Vec<String> {
    d.node_stats().into_iter().map(|n| n.node).collect()
}

fn stats(d: &Dedup, node: &str) -> NodeStats {
    d.node_stats().into_iter().find(|s| s.node == node).unwrap()
}

#[tokio::test]
async fn beyond_max_nodes_the_least_recently_stored_node_is_forgotten() {
    let d = bounded(3, usize::MAX);
    let mut id = 0;
    let mut next = || {
        id += 1;
        id
    };
    for node in ["a", "b", "c"] {
        store(&d, &[ev(node, 1, next()), ev(node, 2, next())]).await;
    }
    // `a` stores again: `b` is now the least recently stored.
    store(&d, &[ev("a", 3, next())]).await;
    store(&d, &[ev("d", 1, next())]).await;
    assert_eq!(ids(&d), ["a", "c", "d"]);
    assert_eq!(
        d.node_table(),
        (
            3,
            ForgottenNodes {
                nodes: 1,
                events: 2
            }
        )
    );
    // Everything stored is still counted somewhere.
    let counted: u64 = d.node_stats().iter().map(|n| n.count).sum();
    assert_eq!(counted + d.node_table().1.events, 8);
}

#[tokio::test]
async fn a_forgotten_node_seen_again_reports_no_false_gap() {
    let d = bounded(1, usize::MAX);
    store(&d, &[ev("a", 1, 1), ev("a", 2, 2), ev("a", 3, 3)]).await;
    store(&d, &[ev("b", 1, 4)]).await;
    // `a` was forgotten; it goes on from seq 4.
    store(&d, &[ev("a", 4, 5), ev("a", 5, 6), ev("a", 7, 7)]).await;
    let a = stats(&d, "a");
    assert_eq!(a.count, 3);
    assert_eq!(a.highest_contiguous_seq, 5, "{a:?}");
    // 1..=3 were stored before it was forgotten: given up, not missing. 6 is missing.
    assert_eq!((a.missing, a.forgotten_gaps), (1, 1), "{a:?}");
}

#[tokio::test]
async fn a_new_node_before_any_forgetting_keeps_its_real_gaps() {
    let d = bounded(10, usize::MAX);
    store(&d, &[ev("a", 5, 1)]).await;
    let a = stats(&d, "a");
    assert_eq!((a.missing, a.forgotten_gaps), (4, 0), "{a:?}");
}

#[tokio::test]
async fn the_ranges_of_all_nodes_are_bounded_too() {
    // Every other seq: each event is a range of its own.
    let d = bounded(usize::MAX, 10);
    let mut id = 0;
    for node in ["a", "b", "c"] {
        let events: Vec<Event> = (0..4)
            .map(|i| {
                id += 1;
                ev(node, 1 + 2 * i, id)
            })
            .collect();
        store(&d, &events).await;
    }
    // 12 ranges > 10: `a`, stored least recently, is forgotten.
    assert_eq!(ids(&d), ["b", "c"]);
    assert_eq!(d.node_table().1.events, 4);
}

#[tokio::test]
async fn duplicates_of_a_forgotten_node_do_not_grow_the_table() {
    let d = bounded(2, usize::MAX);
    let old = ev("a", 1, 1);
    store(&d, std::slice::from_ref(&old)).await;
    store(&d, &[ev("b", 1, 2)]).await;
    store(&d, &[ev("c", 1, 3)]).await;
    // `a` was forgotten, but its event is still in the window: a duplicate.
    let retry = d.admit(std::slice::from_ref(&old)).await;
    assert_eq!(retry.duplicates(), 1);
    retry.commit();
    assert_eq!(ids(&d), ["b", "c"]);
}

#[tokio::test]
async fn a_page_lists_nodes_by_id_after_the_given_one() {
    let d = bounded(100, usize::MAX);
    for (i, node) in ["d", "b", "a", "e", "c"].into_iter().enumerate() {
        store(&d, &[ev(node, 1, i as u128 + 1)]).await;
    }
    let page = |after, limit| -> Vec<String> {
        d.node_stats_after(after, limit)
            .into_iter()
            .map(|n| n.node)
            .collect()
    };
    assert_eq!(page(None, 2), ["a", "b"]);
    assert_eq!(page(Some("b"), 2), ["c", "d"]);
    assert_eq!(page(Some("d"), 2), ["e"]);
    assert_eq!(page(Some("e"), 2), Vec::<String>::new());
    assert_eq!(page(Some("bb"), 10), ["c", "d", "e"]);
}
