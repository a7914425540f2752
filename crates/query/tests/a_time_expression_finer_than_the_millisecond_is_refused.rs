//! A time column compared with an expression whose value is an instant finer than the
//! millisecond is refused with the literals' error, whatever way the time is written:
//! `to_timestamp('…11.0001Z')`, `arrow_cast('…', 'Timestamp(Microsecond, None)')`,
//! `TIMESTAMP '…11.0001Z' + INTERVAL '0 seconds'`, in `BETWEEN`, `IN`, a join's
//! condition, or against the column under a cast. The engine cut such a value to its
//! millisecond and `timestamp < …` left out the event at `10:00:11.000`, answering 0
//! rows without a word (tryout edge67/03). The same forms with a whole millisecond are
//! answered, and rightly.

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
fn a_sub_millisecond_time_expression_is_refused_and_a_whole_millisecond_answered() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new(dir.path());
    for (seq, ts) in [(1, "2026-11-23T10:00:11.000Z"), (2, "2026-11-23T10:31:00Z")] {
        store.put(&event(
            "n1",
            seq,
            ts,
            "generic",
            None,
            json!({"msgType": "login"}),
        ));
    }
    store.write();
    let engine = Engine::builder().store(dir.path()).build().unwrap();

    for (condition, time, column) in [
        (
            "timestamp < to_timestamp('2026-11-23T10:00:11.0001Z')",
            "2026-11-23T10:00:11.000100Z",
            "timestamp",
        ),
        (
            "timestamp < arrow_cast('2026-11-23T10:00:11.0001Z', 'Timestamp(Microsecond, None)')",
            "2026-11-23T10:00:11.000100Z",
            "timestamp",
        ),
        (
            "timestamp < TIMESTAMP '2026-11-23T10:00:11.0001Z' + INTERVAL '0 seconds'",
            "2026-11-23T10:00:11.000100Z",
            "timestamp",
        ),
        (
            "to_timestamp('2026-11-23T10:00:11.000000001Z') = timestamp",
            "2026-11-23T10:00:11.000000001Z",
            "timestamp",
        ),
        (
            "timestamp BETWEEN '2026-11-23' AND TIMESTAMP '2026-11-23T10:00:11Z' + INTERVAL '100 microseconds'",
            "2026-11-23T10:00:11.000100Z",
            "timestamp",
        ),
        (
            "\"serverTimestamp\" IN (to_timestamp('2026-11-23T10:00:11.0005Z'))",
            "2026-11-23T10:00:11.000500Z",
            "serverTimestamp",
        ),
        (
            "CAST(timestamp AS TIMESTAMP) < to_timestamp('2026-11-23T10:00:11.0001Z')",
            "2026-11-23T10:00:11.000100Z",
            "timestamp",
        ),
        (
            "seq IN (SELECT e.seq FROM events e JOIN events f \
             ON e.seq = f.seq AND e.timestamp < to_timestamp('2026-11-23T10:00:11.0001Z'))",
            "2026-11-23T10:00:11.000100Z",
            "timestamp",
        ),
    ] {
        let refused = count(&engine, condition).unwrap_err();
        assert!(
            refused.contains(&format!("the time '{time}' (from `"))
                && refused.contains(&format!("compared with `{column}`"))
                && refused.contains("has digits below the millisecond"),
            "{condition}: {refused}"
        );
    }

    // What the time was written as, as one writes it.
    let refused = count(
        &engine,
        "timestamp < to_timestamp('2026-11-23T10:00:11.0001Z')",
    )
    .unwrap_err();
    assert!(
        refused.contains(
            "the time '2026-11-23T10:00:11.000100Z' \
             (from `to_timestamp('2026-11-23T10:00:11.0001Z')`) compared with `timestamp` has"
        ),
        "{refused}"
    );

    for (condition, n) in [
        ("timestamp < to_timestamp('2026-11-23T10:00:11.001Z')", 1),
        (
            "timestamp <= to_timestamp('2026-11-23T10:00:11.000000Z')",
            1,
        ),
        (
            "timestamp < arrow_cast('2026-11-23T10:00:11.001Z', 'Timestamp(Microsecond, None)')",
            1,
        ),
        (
            "timestamp < TIMESTAMP '2026-11-23T10:00:11Z' + INTERVAL '1 millisecond'",
            1,
        ),
        (
            "timestamp > TIMESTAMP '2026-11-23T10:00:11Z' + INTERVAL '0 seconds'",
            1,
        ),
        ("timestamp IN (to_timestamp('2026-11-23T10:31:00Z'))", 1),
        // Not a constant: the moment the query runs is left as it is.
        ("timestamp < now() + INTERVAL '1 microsecond'", 2),
    ] {
        assert_eq!(count(&engine, condition), Ok(n), "{condition}");
    }
}
