//! `compute` named the group of usages without a project key (or user) `(none)`, a
//! string, and so merged them with the usages of a project that is really named
//! `(none)`: their counts and times were added up under one name and neither could be
//! told apart, in JSON as in the text table. Now a usage without one is in the group
//! `null` (JSON) and the project named `(none)` keeps its own row, as `failed-logins`
//! tells a login naming no user (`null`) from a user named so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common::{block_on, event, Store};
use auditrail_query::reports::{self, ComputeBy};
use auditrail_query::{Engine, Window};
use serde_json::json;

#[test]
fn a_project_named_none_and_usages_without_a_project_are_two_groups() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new(&dir.path().join("store"));
    let start = "2026-11-29T08:00:00.000Z";
    // Job `named`: project "(none)", 100 ms of CPU; jobs `bare` and `null`: no project
    // (no key, JSON null), 7 and 11 ms.
    for (seq, job, context, cpu) in [
        (1, "named", json!({"projectKey": "(none)"}), 100),
        (2, "bare", json!({}), 7),
        (3, "null", json!({"projectKey": null}), 11),
    ] {
        store.put(&event(
            "n1",
            seq,
            start,
            "compute-resource-usage",
            None,
            json!({"msgType": "compute-resource-usage-complete", "computeResourceUsage": {
                "id": job, "type": "LOCAL_PROCESS", "context": context,
                "localProcess": {"cpuTotalMS": cpu}}}),
        ));
    }
    store.write();
    let engine = Engine::builder()
        .store(dir.path().join("store"))
        .build()
        .unwrap();
    let groups = block_on(reports::compute(
        &engine,
        ComputeBy::Project,
        Window::default(),
    ))
    .unwrap();
    let rows: Vec<(Option<&str>, u64, f64)> = groups
        .iter()
        .map(|g| (g.group.as_deref(), g.usages, g.cpu_time_ms))
        .collect();
    assert_eq!(rows, [(Some("(none)"), 1, 100.0), (None, 2, 18.0)]);
    assert_eq!(
        serde_json::to_value(&groups[1]).unwrap()["group"],
        serde_json::Value::Null
    );
}
