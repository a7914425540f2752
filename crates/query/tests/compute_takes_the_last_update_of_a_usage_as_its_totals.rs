//! `compute` took a usage's highest `cpuTotalMS`, while the reference model says the
//! metrics are cumulative and the LAST `update`/`complete` of an `id` holds the totals
//! (`/work/shared/reference/audit-model.md`). A usage whose counter went down between
//! two updates (a process restarted under the same usage, a counter read from another
//! source at completion) was reported with the higher, earlier figure. Now the last
//! event carrying a readable `cpuTotalMS`, by the events' `timestamp` and then the
//! node's `seq` (docs/query.md), holds the totals; a window's CPU time is the total at
//! its end less the total at its start, never below 0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common::{block_on, event, Store};
use auditrail_query::reports::{self, ComputeBy};
use auditrail_query::{Engine, Window};
use serde_json::json;

fn at(ts: &str) -> auditrail_core::Timestamp {
    ts.parse().unwrap()
}

#[test]
fn the_last_update_holds_the_totals_even_when_lower_than_an_earlier_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new(&dir.path().join("store"));
    // Usage `u1`: started at 08:00 (no counter yet), 5000 ms at 08:10, 3000 ms at
    // 08:20 (the counter went down), completed at 08:30 with 3500 ms. `u2`: two events
    // of one instant, told apart by the node's seq (the later one, 40, holds the total).
    let events = [
        (1, "u1", "2026-11-29T08:00:00.000Z", "start", None),
        (2, "u1", "2026-11-29T08:10:00.000Z", "update", Some(5000)),
        (3, "u1", "2026-11-29T08:20:00.000Z", "update", Some(3000)),
        (4, "u1", "2026-11-29T08:30:00.000Z", "complete", Some(3500)),
        (5, "u2", "2026-11-29T09:00:00.000Z", "update", Some(90)),
        (6, "u2", "2026-11-29T09:00:00.000Z", "complete", Some(40)),
    ];
    for (seq, id, ts, step, cpu) in events {
        let mut cru = json!({"id": id, "type": "LOCAL_PROCESS",
            "startTime": at(if id == "u1" { "2026-11-29T08:00:00.000Z" } else { ts }).unix_millis(),
            "context": {"projectKey": id.to_uppercase()}});
        if let Some(cpu) = cpu {
            cru["localProcess"] = json!({"cpuTotalMS": cpu});
        }
        store.put(&event(
            "n1",
            seq,
            ts,
            "compute-resource-usage",
            None,
            json!({"msgType": format!("compute-resource-usage-{step}"),
                   "computeResourceUsage": cru}),
        ));
    }
    store.write();
    let engine = Engine::builder()
        .store(dir.path().join("store"))
        .build()
        .unwrap();
    let cpu = |window: Window| -> Vec<(Option<String>, f64)> {
        block_on(reports::compute(&engine, ComputeBy::Project, window))
            .unwrap()
            .into_iter()
            .map(|g| (g.group, g.cpu_time_ms))
            .collect()
    };
    assert_eq!(
        cpu(Window::default()),
        [
            (Some("U1".to_owned()), 3500.0),
            (Some("U2".to_owned()), 40.0)
        ],
        "the last update/complete of each id holds its totals"
    );
    // Up to 08:15 the last total is 5000; from 08:15 on it went down to 3500: that
    // window used no CPU by the counters (never a negative figure).
    let split = at("2026-11-29T08:15:00.000Z");
    let before = Window {
        since: None,
        until: Some(split),
    };
    let after = Window {
        since: Some(split),
        until: Some(at("2026-11-29T08:45:00.000Z")),
    };
    assert_eq!(cpu(before), [(Some("U1".to_owned()), 5000.0)]);
    assert_eq!(cpu(after), [(Some("U1".to_owned()), 0.0)]);
}
