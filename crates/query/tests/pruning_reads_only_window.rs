//! A time-window query opens only the files of the partitions in the window; topic and
//! routing-key conditions skip other folders too; the answers stay exact.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common::{block_on, event, Store};
use auditrail_query::datafusion::arrow::array::{Array, Int64Array};
use auditrail_query::Engine;
use serde_json::json;

/// Three days (Nov 28-30), every hour, two topics, two routing keys for apinode-query.
fn store(dir: &std::path::Path) -> Store {
    let mut s = Store::new(dir);
    let mut seq = 0;
    for day in 28..=30 {
        for hour in 0..24 {
            for minute in [5, 35] {
                seq += 1;
                let ts = format!("2026-11-{day}T{hour:02}:{minute:02}:00.000Z");
                s.put(&event(
                    "n1",
                    seq,
                    &ts,
                    "generic",
                    None,
                    json!({"msgType": "login", "authUser": "alice"}),
                ));
                seq += 1;
                let key = if minute == 5 { "svc-a" } else { "svc-b" };
                s.put(&event(
                    "n1",
                    seq,
                    &ts,
                    "apinode-query",
                    Some(key),
                    json!({"msgType": "prediction-query"}),
                ));
            }
        }
    }
    s.write();
    s
}

fn count(engine: &Engine, sql: &str) -> i64 {
    let batches = block_on(engine.collect(sql)).unwrap();
    let a = batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert_eq!(a.len(), 1);
    a.value(0)
}

#[test]
fn a_one_day_window_opens_only_that_days_files() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    assert_eq!(s.files(), 3 * 24 * 3);
    let engine = Engine::builder().store(dir.path()).build().unwrap();
    let n = count(
        &engine,
        "SELECT count(*) FROM events WHERE timestamp >= '2026-11-29' AND timestamp < '2026-11-30'",
    );
    assert_eq!(n, 24 * 4);
    let stats = engine.stats();
    assert_eq!(stats.files_listed, 3 * 24 * 3);
    assert_eq!(
        stats.files_opened,
        s.files_in("2026/11/29") as u64,
        "{stats:?}"
    );
    assert_eq!(stats.files_opened, 24 * 3);
    assert!(stats.files_sampled <= 2, "{stats:?}");
}

#[test]
fn an_hour_window_relative_to_a_timestamp_opens_one_hour() {
    let dir = tempfile::tempdir().unwrap();
    store(dir.path());
    let engine = Engine::builder().store(dir.path()).build().unwrap();
    let n = count(
        &engine,
        "SELECT count(*) FROM events WHERE timestamp BETWEEN TIMESTAMP '2026-11-29T10:00:00Z' AND TIMESTAMP '2026-11-29T10:59:59Z'",
    );
    assert_eq!(n, 4);
    assert_eq!(engine.stats().files_opened, 3);
}

#[test]
fn topic_and_routing_key_conditions_skip_other_folders() {
    let dir = tempfile::tempdir().unwrap();
    store(dir.path());
    let engine = Engine::builder().store(dir.path()).build().unwrap();
    assert_eq!(
        count(
            &engine,
            "SELECT count(*) FROM events WHERE topic = 'generic'"
        ),
        3 * 24 * 2
    );
    assert_eq!(engine.stats().files_opened, 3 * 24);

    let engine = Engine::builder().store(dir.path()).build().unwrap();
    assert_eq!(
        count(
            &engine,
            "SELECT count(*) FROM events WHERE routingKey = 'svc-a' AND timestamp >= '2026-11-30'"
        ),
        24
    );
    assert_eq!(engine.stats().files_opened, 24);

    let engine = Engine::builder().store(dir.path()).build().unwrap();
    assert_eq!(
        count(
            &engine,
            "SELECT count(*) FROM events WHERE routingKey IS NULL"
        ),
        3 * 24 * 2
    );
    assert_eq!(
        engine.stats().files_opened,
        3 * 24,
        "only the _none folders"
    );

    let engine = Engine::builder().store(dir.path()).build().unwrap();
    assert_eq!(count(&engine, "SELECT count(*) FROM events WHERE topic IN ('authfail', 'generic') AND topic <> 'generic'"), 0);
    assert_eq!(engine.stats().files_opened, 0);
}

#[test]
fn conditions_on_other_columns_read_everything_and_stay_exact() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let engine = Engine::builder().store(dir.path()).build().unwrap();
    assert_eq!(
        count(&engine, "SELECT count(*) FROM events WHERE authUser = 'alice' OR timestamp < '2026-11-28T01:00:00Z'"),
        3 * 24 * 2 + 2
    );
    assert_eq!(engine.stats().files_opened, s.files() as u64);
}
