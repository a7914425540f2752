//! De-duplication survives a restart: rebuilt from the real store files, it knows
//! every stored id and each node's sequence state; records cut by recovery (never
//! acknowledged) are not counted as stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use super::{Dedup, DedupConfig, Gap, Holders};
use auditrail_core::Event;
use auditrail_core::{Filter, Selection};
use auditrail_testkit::store::*;
use serde_json::json;

fn from_node(node: &str, seq: u64, id: u128) -> Arc<Event> {
    let mut e = (*event(
        "generic",
        Some("svc-a"),
        "2026-11-25T16:55:49.123Z",
        id as u64,
    ))
    .clone();
    e.node = node.parse().unwrap();
    e.seq = seq;
    Arc::new(e)
}

#[tokio::test]
async fn rebuilt_state_recognises_stored_events_as_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    let stored: Vec<_> = [1u64, 2, 3, 5, 6]
        .iter()
        .map(|&s| from_node("n1", s, u128::from(s)))
        .chain([from_node("n2", 1, 100)])
        .collect();
    t.send_blocking(&stored).unwrap();
    drop(t); // the server stops

    let dedup = Dedup::new(DedupConfig::default());
    let reports = [dedup.load_closed_store(&root).unwrap()];
    assert_eq!(reports[0].records, 6);
    // A client retries two stored events along with a new one.
    let retry = [stored[0].clone(), stored[5].clone(), from_node("n1", 4, 4)];
    let a = dedup.admit(&retry).await;
    assert_eq!((a.new(), a.duplicates()), (&[2][..], 2));
    a.commit();

    let n1 = dedup
        .node_stats()
        .into_iter()
        .find(|s| s.node == "n1")
        .unwrap();
    assert_eq!(n1.count, 6);
    assert_eq!(n1.highest_contiguous_seq, 6);
    assert_eq!(n1.duplicates, 1);
    assert!(n1.last_seen.is_some());
    let n2 = dedup
        .node_stats()
        .into_iter()
        .find(|s| s.node == "n2")
        .unwrap();
    assert_eq!((n2.count, n2.duplicates), (1, 1));
}

#[tokio::test]
async fn gaps_are_rebuilt_per_node() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    let evs: Vec<_> = [1u64, 2, 7, 9]
        .iter()
        .map(|&s| from_node("n1", s, u128::from(s)))
        .collect();
    t.send_blocking(&evs).unwrap();
    drop(t);
    let dedup = Dedup::new(DedupConfig::default());
    dedup.load_closed_store(&root).unwrap();
    let n1 = &dedup.node_stats()[0];
    assert_eq!(n1.highest_contiguous_seq, 2);
    assert_eq!(
        n1.gaps,
        vec![Gap { first: 3, last: 6 }, Gap { first: 8, last: 8 }]
    );
}

#[tokio::test]
async fn records_cut_by_recovery_are_not_taken_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&[from_node("n1", 1, 1)]).unwrap();
    t.send_blocking(&[from_node("n1", 2, 2), from_node("n1", 3, 3)])
        .unwrap();
    drop(t);
    // Crash simulation: the unacknowledged batch's first record never reached the disk
    // (chain number 2 missing), its second did.
    let seg = segments(&root).pop().unwrap();
    let data = std::fs::read_to_string(&seg).unwrap();
    let kept: String = data
        .lines()
        .filter(|l| !l.contains(",\"chainSeq\":2,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&seg, kept).unwrap();

    // Rebuild before the store is opened: the scan runs recovery first.
    let dedup = Dedup::new(DedupConfig::default());
    let reports = [dedup.load_closed_store(&root).unwrap()];
    assert_eq!(
        reports[0].recovery.as_ref().unwrap().records_cut_after_gap,
        1
    );
    assert!(dedup.contains(&from_node("n1", 1, 1)));
    assert!(
        !dedup.contains(&from_node("n1", 3, 3)),
        "never acknowledged: must be stored on retry"
    );
    let a = dedup
        .admit(&[from_node("n1", 2, 2), from_node("n1", 3, 3)])
        .await;
    assert_eq!(a.new().len(), 2);
}

#[tokio::test]
async fn rebuild_while_the_store_is_open_reads_it_without_a_second_recovery() {
    // The server opens its destinations first (recovery runs there), then rebuilds.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&[from_node("n1", 1, 1), from_node("n1", 2, 2)])
        .unwrap();
    let dedup = Dedup::new(DedupConfig::default());
    let reports = [dedup.load_store(&t.handle()).unwrap()];
    assert!(
        reports[0].recovery.is_none(),
        "the open store's writer already recovered"
    );
    assert_eq!(reports[0].records, 2);
    assert!(dedup.contains(&from_node("n1", 2, 2)));
    // The store keeps working after the scan released its writer.
    t.send_blocking(&[from_node("n1", 3, 3)]).unwrap();
    assert_eq!(verify_chain(&root).seq, 3);
}

/// The fingerprint read back from a stored record is the one of the event received, for
/// every field it covers, written in any form the client may use (whitespace in the
/// message, escapes, big numbers, a timestamp with an offset, routing key or none): a
/// retry after a restart is a duplicate; the same id with any one field changed is
/// another event, stored.
#[tokio::test]
async fn a_retry_after_a_restart_is_a_duplicate_and_another_event_with_its_id_is_new() {
    let id = |n: u32| format!("01936f6e-1b2c-7d3e-8f40-{n:012}");
    let text = |n: u32, ts: &str, topic: &str, rk: &str, node: &str, seq: u64, msg: &str| {
        format!(
            r#"{{"id":"{}","timestamp":"{ts}","topic":"{topic}"{rk},"node":"{node}","seq":{seq},"message":{msg}}}"#,
            id(n)
        )
    };
    let msg = r#"{ "msgType" : "login", "n" : 123456789012345678901234567890, "s" : "\u00e9\n\"", "f" : 1E2 }"#;
    let rk = r#","routingKey":"svc \"a\" \u00e9""#;
    let ts = "2026-11-25T18:55:49.123456+02:00";
    let stored_texts = [
        text(1, ts, "generic", rk, "n1", 1, msg),
        text(2, ts, "generic", "", "n1", 2, msg),
    ];
    let parse = |t: &str| Arc::new(Event::from_json(t).unwrap());
    let stored: Vec<Arc<Event>> = stored_texts.iter().map(|t| parse(t)).collect();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&stored).unwrap();
    drop(t); // the server stops

    let dedup = Dedup::new(DedupConfig::default());
    assert_eq!(dedup.load_closed_store(&root).unwrap().records, 2);
    // The retries, parsed afresh from the texts the client sent (and once more with
    // the timestamp as the store wrote it: the same instant).
    let retries: Vec<Arc<Event>> = stored_texts
        .iter()
        .map(|t| parse(t))
        .chain([parse(&text(
            1,
            "2026-11-25T16:55:49.123Z",
            "generic",
            rk,
            "n1",
            1,
            msg,
        ))])
        .collect();
    let a = dedup.admit(&retries).await;
    assert_eq!((a.new().len(), a.duplicates()), (0, 3));
    drop(a);
    // Event 1's id with one field changed each time.
    let other_msg =
        r#"{"msgType":"login","n":123456789012345678901234567891,"s":"\u00e9\n\"","f":1E2}"#;
    let others = [
        text(
            1,
            "2026-11-25T18:55:49.124+02:00",
            "generic",
            rk,
            "n1",
            1,
            msg,
        ),
        text(1, ts, "authfail", rk, "n1", 1, msg),
        text(1, ts, "generic", r#","routingKey":"svc-b""#, "n1", 1, msg),
        text(1, ts, "generic", "", "n1", 1, msg),
        text(1, ts, "generic", rk, "n2", 1, msg),
        text(1, ts, "generic", rk, "n1", 7, msg),
        text(1, ts, "generic", rk, "n1", 1, other_msg),
    ];
    for other in &others {
        let a = dedup.admit(&[parse(other)]).await;
        assert_eq!((a.new(), a.duplicates()), (&[0][..], 0), "{other}");
    }
}

/// A node whose events alternate between two topics (every real node does) is read
/// back one partition file after another: every other seq, then the ones in between.
/// The rebuilt accounting must still show exactly its real gap, whatever the order the
/// files are read in, with no gap given up: read in file order, the 1 500 apparent gaps
/// once exceeded `max_ranges_per_node` (1 024) and the real gap was forgotten.
fn alternating(node: &str, missing: u64, last: u64) -> Vec<Arc<Event>> {
    (1..=last)
        .filter(|&s| s != missing)
        .map(|s| {
            let topic = if s % 2 == 0 { "generic" } else { "authfail" };
            let mut e = (*event(topic, None, "2026-11-25T16:55:49.123Z", s)).clone();
            e.node = node.parse().unwrap();
            Arc::new(e)
        })
        .collect()
}

fn assert_only_the_real_gap(dedup: &Dedup, node: &str, last: u64) {
    let n = dedup
        .node_stats()
        .into_iter()
        .find(|s| s.node == node)
        .unwrap();
    assert_eq!(n.gaps, vec![Gap { first: 4, last: 4 }], "{n:?}");
    assert_eq!(n.missing, 1, "{n:?}");
    assert_eq!(n.forgotten_gaps, 0, "{n:?}");
    assert_eq!(n.highest_contiguous_seq, 3, "{n:?}");
    assert_eq!(n.count, last - 1, "{n:?}");
}

#[tokio::test]
async fn a_node_alternating_between_partitions_is_rebuilt_with_its_real_gaps_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    for chunk in alternating("n-gap", 4, 3000).chunks(1000) {
        t.send_blocking(chunk).unwrap();
    }
    drop(t);
    let dedup = Dedup::new(DedupConfig::default());
    assert_eq!(dedup.load_closed_store(&root).unwrap().records, 2999);
    assert_only_the_real_gap(&dedup, "n-gap", 3000);
}

#[tokio::test]
async fn a_node_split_across_stores_is_rebuilt_with_its_real_gaps_only() {
    // The server's stores split by topic: each holds every other seq of the node.
    let dir = tempfile::tempdir().unwrap();
    let events = alternating("n-gap", 4, 3000);
    let (even, odd): (Vec<_>, Vec<_>) = events.into_iter().partition(|e| e.seq % 2 == 0);
    let a = open(&dir.path().join("a"), json!({}));
    let b = open(&dir.path().join("b"), json!({}));
    a.send_blocking(&even).unwrap();
    b.send_blocking(&odd).unwrap();
    let (ha, hb) = (a.handle(), b.handle());
    let read = auditrail_store::ReadProgress::new();
    let dedup = Dedup::rebuild(DedupConfig::default(), [&ha, &hb], &both(), &read, None).unwrap();
    assert_eq!(read.counts().records, 2999);
    assert_only_the_real_gap(&dedup, "n-gap", 3000);
}

/// The window remembers the events stored last, also after a restart. A store is read
/// one segment after another, each segment in its partition folder: the segment of a
/// quiet topic, begun early, holds events stored long after the first events of the
/// busy topic's later segments. Read in that order, the window ended with the busy
/// topic's older events and forgot the quiet topic's newest: the retry of an event
/// the server stored just before it stopped was stored a second time.
#[tokio::test]
async fn the_window_rebuilt_holds_the_events_stored_last_whatever_segment_holds_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    let quiet = |n| event("authfail", None, "2026-11-25T16:55:49.123Z", n);
    let busy = |n| event("generic", None, "2026-11-25T16:55:49.123Z", n);
    // The quiet topic's segment starts first and gets the event stored last.
    t.send_blocking(&[quiet(1)]).unwrap();
    let many: Vec<_> = (2..=11).map(busy).collect();
    t.send_blocking(&many).unwrap();
    let last = quiet(12);
    t.send_blocking(std::slice::from_ref(&last)).unwrap();
    drop(t);

    let config = DedupConfig {
        window: 4,
        ..DedupConfig::default()
    };
    let dedup = Dedup::new(config);
    assert_eq!(dedup.load_closed_store(&root).unwrap().records, 12);
    // The four events stored last: 9, 10, 11 (busy) and 12 (quiet).
    for n in [9, 10, 11] {
        assert!(dedup.contains(&busy(n)), "busy event {n} forgotten");
    }
    assert!(dedup.contains(&last), "the event stored last was forgotten");
    assert!(
        !dedup.contains(&busy(8)),
        "the window holds more than its bound"
    );
    let a = dedup.admit(&[last]).await;
    assert_eq!((a.new().len(), a.duplicates()), (0, 1));
}

/// `e` as received at `ts` (the server's receive time, written into its record).
fn received_at(e: &Arc<Event>, ts: &str) -> Arc<Event> {
    let mut e = (**e).clone();
    e.received = Some(Arc::new(auditrail_core::Received {
        orig_address: None,
        key_id: None,
        server_timestamp: ts.parse().unwrap(),
        kafka: None,
    }));
    Arc::new(e)
}

/// The same across stores: the window keeps the last events of every store, not those
/// of the store read last.
#[tokio::test]
async fn the_window_rebuilt_from_several_stores_holds_the_events_received_last() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir.path().join("a"), json!({}));
    let b = open(&dir.path().join("b"), json!({}));
    // Store a takes `generic`, store b `authfail` (as their destinations' filters say).
    let at = |n: u64, ms: u64| {
        let topic = if (5..=8).contains(&n) {
            "authfail"
        } else {
            "generic"
        };
        received_at(
            &event(topic, None, "2026-11-25T16:55:49.123Z", n),
            &format!("2026-11-25T16:56:00.{ms:03}Z"),
        )
    };
    // Store a gets events received at 1..=4 ms and the last one at 9 ms; store b at 5..=8.
    let in_a: Vec<_> = (1..=4).map(|n| at(n, n)).chain([at(9, 9)]).collect();
    let in_b: Vec<_> = (5..=8).map(|n| at(n, n)).collect();
    a.send_blocking(&in_a).unwrap();
    b.send_blocking(&in_b).unwrap();
    let (ha, hb) = (a.handle(), b.handle());
    let config = DedupConfig {
        window: 3,
        ..DedupConfig::default()
    };
    let dedup = Dedup::rebuild(config, [&ha, &hb], &by_topic(), &Default::default(), None).unwrap();
    for n in [7, 8, 9] {
        assert!(dedup.contains(&at(n, n)), "event {n} forgotten");
    }
    assert!(!dedup.contains(&at(6, 6)));
}

/// Destinations `a` and `b`, stores, both taking every event.
fn both() -> Holders {
    Holders::new(vec![(Filter::all(), Some(0)), (Filter::all(), Some(1))])
}

/// Store 0 takes `generic`, store 1 `authfail`.
fn by_topic() -> Holders {
    let only = |t: &str| Filter {
        topics: Selection::Only(vec![t.parse().unwrap()]),
        ..Filter::all()
    };
    Holders::new(vec![
        (only("generic"), Some(0)),
        (only("authfail"), Some(1)),
    ])
}

/// A server with two store destinations taking every event, killed while one store had
/// a batch and the other was still retrying it (a full disk): no `200` was given. After
/// the restart the client's retry must reach the store that missed it, so the rebuild
/// takes as stored only the events both stores hold. (Taken as stored when one store
/// held it, the retry was answered as duplicates and the other store never got it.)
#[tokio::test]
async fn an_event_one_store_misses_is_not_taken_as_stored_when_both_take_it() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir.path().join("a"), json!({}));
    let b = open(&dir.path().join("b"), json!({}));
    let in_both = from_node("n1", 1, 1);
    let only_in_a = from_node("n1", 2, 2);
    a.send_blocking(&[in_both.clone(), only_in_a.clone()])
        .unwrap();
    b.send_blocking(std::slice::from_ref(&in_both)).unwrap();
    let (ha, hb) = (a.handle(), b.handle());
    let dedup = Dedup::rebuild(
        DedupConfig::default(),
        [&ha, &hb],
        &both(),
        &Default::default(),
        None,
    )
    .unwrap();
    let retry = [in_both, only_in_a];
    let admitted = dedup.admit(&retry).await;
    assert_eq!((admitted.new(), admitted.duplicates()), (&[1][..], 1));
    // Noted with the store that holds it (route 0): its retry is written to b alone.
    assert_eq!(
        admitted
            .held_before(1)
            .map(|r| r.iter().collect::<Vec<_>>()),
        Some(vec![0])
    );
    drop(admitted);
    // Each store's filter decides: an event only store b's filter takes is stored once b
    // holds it, whatever store a holds.
    let authfail = received_at(
        &event("authfail", None, "2026-11-25T16:55:49.123Z", 3),
        "2026-11-25T16:56:00.003Z",
    );
    b.send_blocking(std::slice::from_ref(&authfail)).unwrap();
    let dedup = Dedup::rebuild(
        DedupConfig::default(),
        [&ha, &hb],
        &by_topic(),
        &Default::default(),
        None,
    )
    .unwrap();
    assert!(dedup.contains(&authfail));
}

/// A destination that is not a store (a `file`, a forward to another server, Kafka)
/// cannot be read back, and does not decide: an event the store holds is taken as
/// stored by a rebuild whatever other destinations take it, so its retry after a
/// restart is a duplicate in the store (one record) and is sent again to the others
/// (`http/sent_again.rs`). Counted, it kept the event out of the window, and every
/// retry after a restart was stored a second time (final65/02).
#[tokio::test]
async fn an_event_a_destination_other_than_a_store_takes_is_taken_as_stored_by_its_store() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir.path().join("a"), json!({}));
    let generic = from_node("n1", 1, 1);
    let authfail = received_at(
        &event("authfail", None, "2026-11-25T16:55:49.123Z", 2),
        "2026-11-25T16:56:00.002Z",
    );
    a.send_blocking(&[generic.clone(), authfail.clone()])
        .unwrap();
    let forward_authfail = Filter {
        topics: Selection::Only(vec!["authfail".parse().unwrap()]),
        ..Filter::all()
    };
    let holders = Holders::new(vec![(Filter::all(), Some(0)), (forward_authfail, None)]);
    let ha = a.handle();
    let dedup = Dedup::rebuild(
        DedupConfig::default(),
        [&ha],
        &holders,
        &Default::default(),
        None,
    )
    .unwrap();
    assert!(dedup.contains(&generic));
    assert!(dedup.contains(&authfail));
}

/// A day when the server's clock was a day ahead: its records carry later
/// `serverTimestamp`s than everything stored after the clock was corrected.
const AHEAD: &str = "2026-11-26T17:00:00.000Z";
/// After the correction.
const CORRECTED: &str = "2026-11-25T17:00:00.000Z";

/// After a period with the clock ahead, the rebuilt window still holds the events
/// stored last (by the store's order, `chainSeq`), so a node's retry of its batch
/// acknowledged just before the restart is a duplicate. (Chosen by `serverTimestamp`,
/// the clock-ahead records filled the window and the retry was stored twice.)
#[tokio::test]
async fn after_a_clock_correction_the_rebuilt_window_holds_the_events_stored_last() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    let ahead: Vec<_> = (1..=6)
        .map(|s| received_at(&from_node("n1", s, u128::from(s)), AHEAD))
        .collect();
    t.send_blocking(&ahead).unwrap();
    let last_batch: Vec<_> = (7..=8)
        .map(|s| received_at(&from_node("n1", s, u128::from(s)), CORRECTED))
        .collect();
    t.send_blocking(&last_batch).unwrap();
    drop(t); // the server restarts

    let dedup = Dedup::new(DedupConfig {
        window: 4,
        ..DedupConfig::default()
    });
    dedup.load_closed_store(&root).unwrap();
    let retry = dedup.admit(&last_batch).await;
    assert_eq!((retry.new().len(), retry.duplicates()), (0, 2));
}

/// A node's `lastSeen` rebuilt at start is the time of its last stored event (by the
/// store's order), not the largest time, which stays in the future after the clock
/// was corrected.
#[tokio::test]
async fn after_a_clock_correction_a_rebuilt_last_seen_is_the_nodes_last_arrival() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&[received_at(&from_node("n1", 1, 1), AHEAD)])
        .unwrap();
    t.send_blocking(&[received_at(&from_node("n1", 2, 2), CORRECTED)])
        .unwrap();
    drop(t);

    let dedup = Dedup::new(DedupConfig::default());
    dedup.load_closed_store(&root).unwrap();
    let n1 = &dedup.node_stats()[0];
    assert_eq!(n1.last_seen, Some(CORRECTED.parse().unwrap()));
}

/// The node table rebuilt at start, bounded, forgets the node stored least recently by
/// the store's order: after a clock correction it keeps the nodes that sent since,
/// with their real gaps, not one that only sent while the clock was ahead.
#[tokio::test]
async fn after_a_clock_correction_the_rebuilt_node_table_keeps_the_nodes_stored_last() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    t.send_blocking(&[received_at(&from_node("old", 1, 1), AHEAD)])
        .unwrap();
    let b: Vec<_> = [1u64, 2, 3, 5, 6, 7]
        .iter()
        .map(|&s| received_at(&from_node("b", s, 100 + u128::from(s)), CORRECTED))
        .collect();
    t.send_blocking(&b).unwrap();
    t.send_blocking(&[received_at(&from_node("c", 1, 200), CORRECTED)])
        .unwrap();
    drop(t);

    let dedup = Dedup::new(DedupConfig {
        max_nodes: 2,
        ..DedupConfig::default()
    });
    dedup.load_closed_store(&root).unwrap();
    let nodes = dedup.node_stats();
    let ids: Vec<&str> = nodes.iter().map(|n| n.node.as_str()).collect();
    assert_eq!(ids, ["b", "c"]);
    assert_eq!(nodes[0].gaps, vec![Gap { first: 4, last: 4 }]);
}

/// The same with several stores, as the server rebuilds: each store's last events are in
/// the window whatever their `serverTimestamp`s, as those of a store written only while
/// the clock was ahead.
#[tokio::test]
async fn after_a_clock_correction_the_window_rebuilt_from_several_stores_holds_each_stores_last_events(
) {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir.path().join("a"), json!({}));
    let b = open(&dir.path().join("b"), json!({}));
    let at = |topic: &str, n: u64, ts: &str| {
        received_at(&event(topic, None, "2026-11-25T16:55:49.123Z", n), ts)
    };
    // Store a (`generic`): clock ahead, then corrected; store b (`authfail`): ahead only.
    let ahead_a: Vec<_> = (1..=4).map(|n| at("generic", n, AHEAD)).collect();
    let last_a = at("generic", 5, CORRECTED);
    let in_b: Vec<_> = (6..=9).map(|n| at("authfail", n, AHEAD)).collect();
    a.send_blocking(&ahead_a).unwrap();
    a.send_blocking(std::slice::from_ref(&last_a)).unwrap();
    b.send_blocking(&in_b).unwrap();
    let (ha, hb) = (a.handle(), b.handle());
    let config = DedupConfig {
        window: 4,
        ..DedupConfig::default()
    };
    let dedup = Dedup::rebuild(config, [&ha, &hb], &by_topic(), &Default::default(), None).unwrap();
    assert!(dedup.contains(&last_a), "store a's last event forgotten");
    assert!(dedup.contains(&in_b[3]), "store b's last event forgotten");
}
