//! `compute` added its usages' CPU times as doubles, in the order the engine's
//! partitions handed them over: the figure was rounded at every step, and differed
//! between the event server and the CLI on the same store (found by a tryout: one usage
//! of 2^53 ms and 39 of 1 ms answered 9007199254740992 on the server and
//! 9007199254741008 in the CLI; the exact sum is 9007199254741031). Now the times are
//! added exactly (a decimal, each to a millionth of a ms) and the sum is rounded to a
//! double once: ten usages of 0.1 ms are 1 ms (as doubles, 0.9999999999999999), and
//! 2^53 + 39 × 1 ms is 9007199254741032, its nearest double, in any order. The
//! rounding is one: 2^53 + 1.9 ms is 9007199254740994 (rounded as an integer part and a
//! fraction added to it, it was 9007199254740992; found by the final tryout).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common::{block_on, event, Store};
use auditrail_query::reports::{self, ComputeBy};
use auditrail_query::{Engine, Window};
use serde_json::{json, Value};

/// The CPU time per project of usages with these `cpuTotalMS`, one usage each.
fn cpu_per_project(usages: &[(&str, Value)]) -> Vec<(Option<String>, f64)> {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new(&dir.path().join("store"));
    for (seq, (project, cpu)) in (1..).zip(usages) {
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
    block_on(reports::compute(
        &engine,
        ComputeBy::Project,
        Window::default(),
    ))
    .unwrap()
    .into_iter()
    .map(|g| (g.group, g.cpu_time_ms))
    .collect()
}

#[test]
fn ten_usages_of_a_tenth_of_a_ms_are_one_ms() {
    let usages: Vec<(&str, Value)> = (0..10).map(|_| ("P", json!(0.1))).collect();
    assert_eq!(cpu_per_project(&usages), [(Some("P".to_owned()), 1.0)]);
}

#[test]
fn a_sum_past_2_pow_53_is_the_exact_sum_rounded_once_in_either_order() {
    let max: u64 = 1 << 53;
    let big_first: Vec<(&str, Value)> = std::iter::once(("P", json!(max)))
        .chain((0..39).map(|_| ("P", json!(1))))
        .collect();
    let big_last: Vec<(&str, Value)> = big_first.iter().rev().cloned().collect();
    // 9007199254741031 lies halfway between two doubles; the even one is ...032.
    let expected = [(Some("P".to_owned()), 9007199254741032.0)];
    assert_eq!(
        cpu_per_project(&big_first),
        expected,
        "the usage of 2^53 ms stored first"
    );
    assert_eq!(
        cpu_per_project(&big_last),
        expected,
        "the usage of 2^53 ms stored last"
    );
}

#[test]
fn a_sum_with_a_fraction_past_2_pow_53_is_rounded_once() {
    let max: u64 = 1 << 53;
    let usages: Vec<(&str, Value)> = vec![("P", json!(max)), ("P", json!(1.9))];
    assert_eq!(
        cpu_per_project(&usages),
        [(Some("P".to_owned()), 9007199254740994.0)],
        "9007199254740993.9 is nearest ...994"
    );
}
