//! `api-answers` named the service of the queries sent without a routing key
//! `(no routing key)`, a string, and so merged them with the queries of a service whose
//! routing key is really spelt so: one row, their outcomes and latencies added up, in
//! JSON as in the text table (as `compute` did with `(none)`). Now the queries without
//! one are the service `null` (JSON), listed last, and the named service keeps its row.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common::{block_on, event, Store};
use auditrail_query::reports;
use auditrail_query::{Engine, Window};
use serde_json::json;

/// A service's name, queries and outcomes with their counts.
type Row<'a> = (Option<&'a str>, u64, Vec<(&'a str, u64)>);

#[test]
fn a_service_named_no_routing_key_and_queries_without_one_are_two_services() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new(&dir.path().join("store"));
    let at = "2026-11-29T08:00:00.000Z";
    // A query of the service "(no routing key)" answered 200; two without a routing key
    // answered 500.
    for (seq, key, code) in [
        (1, Some("(no routing key)"), 200),
        (2, None, 500),
        (3, None, 500),
    ] {
        store.put(&event(
            "n1",
            seq,
            at,
            "apinode-query",
            key,
            json!({"msgType": "prediction-query", "httpCode": code, "responseTimeMS": 5}),
        ));
    }
    store.write();
    let engine = Engine::builder()
        .store(dir.path().join("store"))
        .build()
        .unwrap();
    let services = block_on(reports::api_answers(&engine, Window::default())).unwrap();
    let rows: Vec<Row<'_>> = services
        .iter()
        .map(|s| {
            (
                s.service.as_deref(),
                s.queries,
                s.outcomes.iter().map(|(k, n)| (k.as_str(), *n)).collect(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (Some("(no routing key)"), 1, vec![("200", 1)]),
            (None, 2, vec![("500", 2)]),
        ]
    );
    assert_eq!(
        serde_json::to_value(&services[1]).unwrap()["service"],
        serde_json::Value::Null
    );
}
