//! A time column compared with an expression holding a leap second
//! (`timestamp = to_timestamp('2026-11-23T10:30:60Z')`) is refused with the literals'
//! error. The store keeps an event sent at `10:30:60` at `10:30:59.000`; the engine
//! read the text as `10:31:00` and answered the event of the next minute instead
//! (tryout edge67/03). Second 59 through the same function finds the event sent at 60.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common::{block_on, event, Store};
use auditrail_query::datafusion::arrow::array::{Array, Int64Array};
use auditrail_query::Engine;
use serde_json::json;

fn count(engine: &Engine, condition: &str) -> Result<i64, String> {
    let sql = format!("SELECT count(*) FROM events WHERE {condition}");
    let batches = block_on(engine.collect(&sql)).map_err(|e| e.to_string())?;
    let a = batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert_eq!(a.len(), 1);
    Ok(a.value(0))
}

#[test]
fn a_leap_second_time_expression_is_refused_and_second_59_finds_the_event() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new(dir.path());
    for (seq, ts, what) in [
        (1, "2026-11-23T10:30:60Z", "leap"),
        (2, "2026-11-23T10:31:00Z", "next-minute"),
    ] {
        store.put(&event(
            "n1",
            seq,
            ts,
            "generic",
            None,
            json!({"msgType": what}),
        ));
    }
    store.write();
    let engine = Engine::builder().store(dir.path()).build().unwrap();

    for condition in [
        "timestamp = to_timestamp('2026-11-23T10:30:60Z')",
        "timestamp < TIMESTAMP '2026-11-23T10:30:60Z' + INTERVAL '0 seconds'",
        "timestamp IN (to_timestamp_millis('2026-11-23T10:30:60.000Z'))",
    ] {
        let refused = count(&engine, condition).unwrap_err();
        assert!(
            refused.contains("(from `")
                && refused.contains("compared with `timestamp`")
                && refused.contains("has a leap second (second 60)"),
            "{condition}: {refused}"
        );
    }

    for (condition, n) in [
        (
            "msgType = 'leap' AND timestamp = to_timestamp('2026-11-23T10:30:59Z')",
            1,
        ),
        ("timestamp < to_timestamp('2026-11-23T10:31:00Z')", 1),
    ] {
        assert_eq!(count(&engine, condition), Ok(n), "{condition}");
    }
}
