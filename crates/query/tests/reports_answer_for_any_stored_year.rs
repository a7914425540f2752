//! Every report answers for events at any time the ingest accepts (years 0000 to 9999),
//! not only inside the ±292 years around 1970 that nanosecond timestamps can hold: a
//! node with a broken clock (an event dated 2300, or 0001) must not make a report fail
//! for every window that contains that event. The far events land in their own hour,
//! and a window whose ends are far times still opens only the files of its folders.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common::{block_on, event, Store};
use auditrail_query::reports::{self, ComputeBy};
use auditrail_query::{Engine, Window};
use serde_json::json;

/// Outside the nanosecond range (0001, 2300, 9999), and just before the epoch (whose
/// hour must be found by rounding down, not towards zero).
const FAR: [&str; 5] = [
    "0001-01-01T00:30:00.000Z",
    "1969-12-31T23:59:59.999Z",
    "2300-01-01T00:00:00.000Z",
    "2300-01-01T00:59:00.000Z",
    "9999-12-31T23:59:59.999Z",
];

fn t(s: &str) -> auditrail_core::Timestamp {
    s.parse().unwrap()
}

fn ms(s: &str) -> i64 {
    t(s).unix_millis()
}

struct Data {
    dir: tempfile::TempDir,
    store: Store,
    engine: Engine,
}

/// Node `clock-1` (broken clock) sends the far events, one of each topic the reports
/// read; node `design-1` sends ordinary ones.
fn data() -> Data {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new(&dir.path().join("store"));
    for (i, ts) in FAR.iter().enumerate() {
        let seq = i as u64 + 1;
        store.put(&event(
            "clock-1",
            seq,
            ts,
            "generic",
            None,
            json!({"msgType": "login", "authUser": "carol"}),
        ));
    }
    store.put(&event(
        "clock-1",
        10,
        "0001-01-01T00:45:00.000Z",
        "authfail",
        None,
        json!({"msgType": "login-failed", "authUser": "mallory", "clientIP": "203.0.113.9"}),
    ));
    store.put(&event(
        "clock-1",
        11,
        "9999-12-31T23:00:00.000Z",
        "apinode-query",
        Some("svc-far"),
        json!({"msgType": "prediction-query", "httpCode": 200, "responseTimeMS": 12,
               "response": {"prediction": "legit"}}),
    ));
    // A job from 2300-01-01T01:00 to 01:10, 900 ms CPU.
    let (start, end) = ("2300-01-01T01:00:00.000Z", "2300-01-01T01:10:00.000Z");
    for (seq, ts, msg_type, cpu, ended) in [
        (12, start, "compute-resource-usage-start", 0, false),
        (13, end, "compute-resource-usage-complete", 900, true),
    ] {
        let mut cru = json!({"id": "job-far", "type": "LOCAL_PROCESS", "startTime": ms(start),
            "context": {"projectKey": "FAR", "authIdentifier": "carol"},
            "localProcess": {"cpuTotalMS": cpu}});
        if ended {
            cru["endTime"] = json!(ms(end));
        }
        store.put(&event(
            "clock-1",
            seq,
            ts,
            "compute-resource-usage",
            None,
            json!({"msgType": msg_type, "authUser": "carol", "computeResourceUsage": cru}),
        ));
    }
    for (seq, ts) in [
        (1, "2026-11-29T08:00:00.000Z"),
        (2, "2026-11-29T08:10:00.000Z"),
    ] {
        store.put(&event(
            "design-1",
            seq,
            ts,
            "generic",
            None,
            json!({"msgType": "login", "authUser": "alice"}),
        ));
    }
    store.write();
    let engine = Engine::builder()
        .store(dir.path().join("store"))
        .build()
        .unwrap();
    Data { dir, store, engine }
}

fn window(since: &str, until: Option<&str>) -> Window {
    Window {
        since: Some(t(since)),
        until: until.map(t),
    }
}

fn hours(d: &Data, window: Window) -> Vec<(String, String, u64)> {
    block_on(reports::events_per_hour(&d.engine, window))
        .unwrap()
        .into_iter()
        .map(|h| (h.hour.to_string(), h.node, h.events))
        .collect()
}

fn row(hour: &str, node: &str, events: u64) -> (String, String, u64) {
    (hour.to_owned(), node.to_owned(), events)
}

#[test]
fn events_per_hour_bins_far_events_in_their_own_hour() {
    let d = data();
    assert_eq!(
        hours(&d, Window::default()),
        [
            row("0001-01-01T00:00:00.000Z", "clock-1", 2),
            row("1969-12-31T23:00:00.000Z", "clock-1", 1),
            row("2026-11-29T08:00:00.000Z", "design-1", 2),
            row("2300-01-01T00:00:00.000Z", "clock-1", 2),
            row("2300-01-01T01:00:00.000Z", "clock-1", 2),
            row("9999-12-31T23:00:00.000Z", "clock-1", 2),
        ]
    );
    // The console's window: a recent start, open end (so every future event is in it).
    assert_eq!(
        hours(&d, window("2026-11-29T00:00:00Z", None)),
        [
            row("2026-11-29T08:00:00.000Z", "design-1", 2),
            row("2300-01-01T00:00:00.000Z", "clock-1", 2),
            row("2300-01-01T01:00:00.000Z", "clock-1", 2),
            row("9999-12-31T23:00:00.000Z", "clock-1", 2),
        ]
    );
    // Windows whose ends are themselves outside the nanosecond range.
    assert_eq!(
        hours(
            &d,
            window("0001-01-01T00:00:00Z", Some("1970-01-01T00:00:00Z"))
        ),
        [
            row("0001-01-01T00:00:00.000Z", "clock-1", 2),
            row("1969-12-31T23:00:00.000Z", "clock-1", 1),
        ]
    );
    assert_eq!(
        hours(
            &d,
            window("2300-01-01T00:00:00Z", Some("2300-01-01T01:00:00Z"))
        ),
        [row("2300-01-01T00:00:00.000Z", "clock-1", 2)]
    );
}

#[test]
fn the_other_reports_answer_for_far_events_and_far_windows() {
    let d = data();
    let open = Window::default();
    let far_past = window("0001-01-01T00:00:00Z", Some("1970-01-01T00:00:00Z"));
    let far_future = window("9999-12-31T00:00:00Z", None);

    // Node usage.
    let nodes = block_on(reports::node_usage(&d.engine, open)).unwrap();
    let clock = nodes.iter().find(|n| n.node == "clock-1").unwrap();
    assert_eq!((clock.events, clock.failed_logins), (9, 1));
    assert_eq!(
        clock.first_seen.unwrap().to_string(),
        "0001-01-01T00:30:00.000Z"
    );
    assert_eq!(
        clock.last_seen.unwrap().to_string(),
        "9999-12-31T23:59:59.999Z"
    );
    let nodes = block_on(reports::node_usage(&d.engine, far_past)).unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!((nodes[0].events, nodes[0].failed_logins), (3, 1));
    assert_eq!(
        nodes[0].last_seen.unwrap().to_string(),
        "1969-12-31T23:59:59.999Z"
    );

    // Last activity and failed logins.
    let users = |w| -> Vec<(String, String)> {
        block_on(reports::last_activity(&d.engine, w))
            .unwrap()
            .users
            .into_iter()
            .map(|u| (u.user, u.last_activity.to_string()))
            .collect()
    };
    let user = |u: &str, at: &str| (u.to_owned(), at.to_owned());
    assert_eq!(
        users(open),
        [
            user("carol", "9999-12-31T23:59:59.999Z"),
            user("alice", "2026-11-29T08:10:00.000Z"),
        ]
    );
    assert_eq!(users(far_past), [user("carol", "1969-12-31T23:59:59.999Z")]);
    assert_eq!(
        users(far_future),
        [user("carol", "9999-12-31T23:59:59.999Z")]
    );
    let r = block_on(reports::last_activity(&d.engine, far_past)).unwrap();
    assert_eq!(r.failed_logins.len(), 1);
    assert_eq!(
        r.failed_logins[0].last_attempt.unwrap().to_string(),
        "0001-01-01T00:45:00.000Z"
    );

    // Compute: the job of 2300, whole and in part.
    let far = |w| {
        let groups = block_on(reports::compute(&d.engine, ComputeBy::Project, w)).unwrap();
        let g = groups
            .into_iter()
            .find(|g| g.group.as_deref() == Some("FAR"))
            .unwrap();
        (g.usages, g.cpu_time_ms, g.wall_time_ms)
    };
    assert_eq!(far(open), (1, 900.0, 10 * 60 * 1000));
    assert_eq!(
        far(window("2300-01-01T01:05:00Z", Some("2300-01-02T00:00:00Z"))),
        (1, 900.0, 5 * 60 * 1000),
        "the part inside the window"
    );

    // API answers.
    for w in [open, far_future] {
        let services = block_on(reports::api_answers(&d.engine, w)).unwrap();
        assert_eq!(services.len(), 1, "{w}");
        assert_eq!(services[0].service.as_deref(), Some("svc-far"));
        assert_eq!(services[0].queries, 1);
        assert_eq!(services[0].answers, [("legit".to_owned(), 1)]);
    }
    assert!(block_on(reports::api_answers(&d.engine, far_past))
        .unwrap()
        .is_empty());
}

#[test]
fn a_window_in_a_far_year_still_reads_only_its_folders() {
    let d = data();
    // A fresh engine: its counters see this query alone.
    let engine = Engine::builder()
        .store(d.dir.path().join("store"))
        .build()
        .unwrap();
    let hour = window("2300-01-01T00:00:00Z", Some("2300-01-01T01:00:00Z"));
    let nodes = block_on(reports::node_usage(&engine, hour)).unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].events, 2);
    let stats = engine.stats();
    assert_eq!(
        stats.files_opened, 2,
        "two statements, one file each: {stats:?}"
    );
    assert_eq!(d.store.files_in("2300/01/01/00"), 1);
}
