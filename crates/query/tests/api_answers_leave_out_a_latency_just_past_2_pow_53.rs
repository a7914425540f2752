//! `api-answers` read `responseTimeMS` through a double and checked its range after
//! rounding: 9007199254740993 (2^53 + 1) rounded to 2^53, passed the check and was
//! counted as a latency of 9007199254740992 ms (`latency.count` included it,
//! `invalidValues` 0), while 2^53 + 2 was left out. docs/query.md reads a latency
//! "from 0 to 2^53 ms" and leaves out "a number past 2^53". Now the range is checked
//! on the number as sent: 2^53 + 1 is left out and counted, 2^53 itself is read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common::{block_on, event, Store};
use auditrail_query::reports;
use auditrail_query::{Engine, Window};
use serde_json::json;

#[test]
fn a_latency_of_2_pow_53_plus_1_is_left_out_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new(&dir.path().join("store"));
    let max: u64 = 1 << 53;
    for (seq, ms) in [(1, max + 1), (2, max), (3, 10)] {
        store.put(&event(
            "n1",
            seq,
            "2026-11-30T00:00:00.000Z",
            "apinode-query",
            Some("svc"),
            json!({"msgType": "q", "responseTimeMS": ms}),
        ));
    }
    store.write();
    let engine = Engine::builder()
        .store(dir.path().join("store"))
        .build()
        .unwrap();
    let services = block_on(reports::api_answers(&engine, Window::default())).unwrap();
    assert_eq!(services.len(), 1);
    let latency = services[0].latency.as_ref().expect("two latencies read");
    assert_eq!(
        (latency.count, services[0].invalid_values),
        (2, 1),
        "2^53 + 1 left out and counted, 2^53 and 10 read"
    );
    assert_eq!(latency.max, 9007199254740992.0);
}
