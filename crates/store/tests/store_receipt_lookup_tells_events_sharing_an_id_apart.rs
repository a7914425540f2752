//! `StoreHandle::links` and `chain_range` find an event by its receipt key (id and
//! identity), so two different events sharing an id each get their own record, and an
//! event never stored gets none even when another with its id was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::sync::Arc;

use auditrail_core::Event;
use auditrail_store::StoreHandle;
use serde_json::json;
use store_support::*;

/// `e` with another message (same id).
fn other_content(e: &Arc<Event>, user: &str) -> Arc<Event> {
    let mut v: serde_json::Value = serde_json::to_value(&**e).unwrap();
    v["message"]["authUser"] = user.into();
    Arc::new(Event::from_json(&v.to_string()).unwrap())
}

#[test]
fn each_event_of_a_shared_id_gets_its_own_record() {
    let dir = tempfile::tempdir().unwrap();
    let t = open(&dir.path().join("store"), json!({}));
    let [x1, y] = [events(1, 1).remove(0), events(2, 1).remove(0)];
    let x2 = other_content(&x1, "bob");
    let never = other_content(&x1, "carol");
    assert_eq!(x1.id, x2.id);
    t.send_blocking(&[x1.clone(), y.clone(), x2.clone()])
        .unwrap();
    let h = t.handle();
    let key = |e: &Arc<Event>| StoreHandle::receipt_key(e);

    let seqs: Vec<_> = h
        .links(&[key(&x1), key(&y), key(&x2), key(&never)])
        .iter()
        .map(|l| l.map(|l| l.seq))
        .collect();
    assert_eq!(seqs, [Some(1), Some(2), Some(3), None]);

    let r = h.chain_range(&[key(&x1), key(&y), key(&x2)]).unwrap();
    assert_eq!((r.first_seq, r.last_seq), (1, 3));
    assert_eq!(h.chain_range(&[key(&x1)]).map(|r| r.last_seq), Some(1));
    assert!(h.chain_range(&[key(&never)]).is_none());
}
