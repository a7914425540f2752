//! `compute` read `cpuTotalMS` through a double and checked its range after rounding:
//! 9007199254740993 (2^53 + 1) rounded to 2^53, passed the check and was counted as
//! a CPU time of 9007199254740992 ms (`invalidValues` 0), while 2^53 + 2 was left out.
//! docs/query.md reads a CPU time "from 0 to 2^53 ms" and leaves out "a number past
//! 2^53". Now the range is checked on the number as sent: 2^53 + 1 is left out and
//! counted; 2^53 itself is read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common::{block_on, event, Store};
use auditrail_query::reports::{self, ComputeBy};
use auditrail_query::{Engine, Window};
use serde_json::json;

#[test]
fn a_cpu_total_of_2_pow_53_plus_1_is_left_out_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new(&dir.path().join("store"));
    let max: u64 = 1 << 53;
    // Project P1's usage ends at 2^53 + 1 ms of CPU, P2's at 2^53.
    for (seq, project, cpu) in [(1, "P1", max + 1), (2, "P2", max)] {
        store.put(&event(
            "n1",
            seq,
            "2026-11-30T00:00:00.000Z",
            "compute-resource-usage",
            None,
            json!({"msgType": "compute-resource-usage-complete",
                   "computeResourceUsage": {"id": format!("u{seq}"), "type": "LOCAL_PROCESS",
                       "context": {"projectKey": project},
                       "localProcess": {"cpuTotalMS": cpu}}}),
        ));
    }
    store.write();
    let engine = Engine::builder()
        .store(dir.path().join("store"))
        .build()
        .unwrap();
    let groups: Vec<(Option<String>, f64, u64)> = block_on(reports::compute(
        &engine,
        ComputeBy::Project,
        Window::default(),
    ))
    .unwrap()
    .into_iter()
    .map(|g| (g.group, g.cpu_time_ms, g.invalid_values))
    .collect();
    assert_eq!(
        groups,
        [
            (Some("P1".to_owned()), 0.0, 1),
            (Some("P2".to_owned()), 9007199254740992.0, 0),
        ],
        "2^53 + 1 left out and counted, 2^53 read"
    );
}
