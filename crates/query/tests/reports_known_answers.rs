//! The four reports give the known answer on generated data: two stores holding some
//! events twice, a job running across two days, failed logins (one by an attacker, two
//! by an active user), and API services with outcomes, answers, errors and latencies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::BTreeMap;

use crate::common::{block_on, event, Store};
use auditrail_query::reports::{self, ComputeBy};
use auditrail_query::{Engine, Window};
use serde_json::{json, Value};

const DAY29: &str = "2026-11-29";
const DAY30: &str = "2026-11-30";

fn ms(ts: &str) -> i64 {
    ts.parse::<auditrail_core::Timestamp>()
        .unwrap()
        .unix_millis()
}

fn usage(
    msg_type: &str,
    id: &str,
    project: &str,
    user: &str,
    start: &str,
    end: Option<&str>,
    cpu: u64,
) -> Value {
    let mut cru = json!({"id": id, "type": "LOCAL_PROCESS", "startTime": ms(start),
        "context": {"type": "JOB_ACTIVITY", "projectKey": project, "authIdentifier": user},
        "localProcess": {"cpuTotalMS": cpu, "vmRSSMB": 300}});
    if let Some(e) = end {
        cru["endTime"] = json!(ms(e));
    }
    json!({"msgType": msg_type, "authUser": user, "computeResourceUsage": cru})
}

struct Data {
    _dir: tempfile::TempDir,
    engine: Engine,
}

/// Store `main` gets everything; store `api` (a second destination for API events)
/// gets every apinode-query event again.
fn data() -> Data {
    let dir = tempfile::tempdir().unwrap();
    let mut main = Store::new(&dir.path().join("store"));
    let mut api = Store::new(&dir.path().join("api-store"));
    let mut seq: BTreeMap<&str, u64> = BTreeMap::new();
    let mut put = |node: &'static str, ts: &str, topic: &str, key: Option<&str>, msg: Value| {
        let n = seq.entry(node).or_default();
        *n += 1;
        let e = event(node, *n, ts, topic, key, msg);
        main.put(&e);
        if topic == "apinode-query" {
            api.put(&e);
        }
    };
    let act = |user: &str, msg_type: &str| json!({"msgType": msg_type, "authUser": user, "clientIP": "10.0.1.1"});
    // design-1: alice 3 events, bob 2 events; automation-1: erin 2, alice 1.
    put(
        "design-1",
        "2026-11-29T08:00:00.000Z",
        "generic",
        None,
        act("alice", "login"),
    );
    put(
        "design-1",
        "2026-11-29T08:10:00.000Z",
        "generic",
        None,
        act("alice", "dataset-read-data"),
    );
    put(
        "design-1",
        "2026-11-30T07:00:00.000Z",
        "generic",
        None,
        act("bob", "login"),
    );
    put(
        "design-1",
        "2026-11-30T07:05:00.000Z",
        "generic",
        None,
        act("bob", "flow-job-start"),
    );
    put(
        "automation-1",
        "2026-11-29T12:00:00.000Z",
        "generic",
        None,
        act("erin", "login"),
    );
    put(
        "automation-1",
        "2026-11-30T01:00:00.000Z",
        "generic",
        None,
        act("erin", "dataset-write"),
    );
    put(
        "automation-1",
        "2026-11-30T09:30:00.000Z",
        "generic",
        None,
        act("alice", "project-settings-save"),
    );
    put(
        "design-1",
        "2026-11-30T08:00:00.000Z",
        "generic",
        None,
        act("alice", "logout"),
    );
    // Failed logins: mallory 5 (never active), bob 2 (active).
    for i in 0..5 {
        put(
            "design-1",
            &format!("2026-11-29T0{i}:00:00.000Z"),
            "authfail",
            None,
            json!({"msgType": "login-failed", "authUser": "mallory", "clientIP": if i < 3 { "203.0.113.66" } else { "203.0.113.67" }}),
        );
    }
    for h in [10, 11] {
        put(
            "design-1",
            &format!("2026-11-30T{h}:00:00.000Z"),
            "authfail",
            None,
            json!({"msgType": "login-failed", "authUser": "bob", "clientIP": "10.0.1.12"}),
        );
    }
    // Compute: job-1 (CHURN, alice) runs 23:30 on the 29th to 00:20 on the 30th.
    let (s1, e1) = ("2026-11-29T23:30:00.000Z", "2026-11-30T00:20:00.000Z");
    put(
        "design-1",
        s1,
        "compute-resource-usage",
        None,
        usage(
            "compute-resource-usage-start",
            "job-1",
            "CHURN",
            "alice",
            s1,
            None,
            0,
        ),
    );
    put(
        "design-1",
        "2026-11-29T23:40:00.000Z",
        "compute-resource-usage",
        None,
        usage(
            "compute-resource-usage-update",
            "job-1",
            "CHURN",
            "alice",
            s1,
            None,
            1000,
        ),
    );
    put(
        "design-1",
        "2026-11-29T23:55:00.000Z",
        "compute-resource-usage",
        None,
        usage(
            "compute-resource-usage-update",
            "job-1",
            "CHURN",
            "alice",
            s1,
            None,
            2000,
        ),
    );
    put(
        "design-1",
        e1,
        "compute-resource-usage",
        None,
        usage(
            "compute-resource-usage-complete",
            "job-1",
            "CHURN",
            "alice",
            s1,
            Some(e1),
            5000,
        ),
    );
    // job-2 (FRAUD, bob) within the 30th: 10:00 to 10:01, 700 ms CPU.
    let (s2, e2) = ("2026-11-30T10:00:00.000Z", "2026-11-30T10:01:00.000Z");
    put(
        "automation-1",
        s2,
        "compute-resource-usage",
        None,
        usage(
            "compute-resource-usage-start",
            "job-2",
            "FRAUD",
            "bob",
            s2,
            None,
            0,
        ),
    );
    put(
        "automation-1",
        "2026-11-30T10:00:30.000Z",
        "compute-resource-usage",
        None,
        usage(
            "compute-resource-usage-update",
            "job-2",
            "FRAUD",
            "bob",
            s2,
            None,
            300,
        ),
    );
    put(
        "automation-1",
        e2,
        "compute-resource-usage",
        None,
        usage(
            "compute-resource-usage-complete",
            "job-2",
            "FRAUD",
            "bob",
            s2,
            Some(e2),
            700,
        ),
    );
    // API: svc-a 10 queries, latencies 10..100, 8 answered 200 (6 legit, 2 fraud), 2 failed.
    for i in 0..10u64 {
        let mut m = json!({"msgType": "prediction-query", "responseTimeMS": (i + 1) * 10});
        if i < 8 {
            m["httpCode"] = json!(200);
            m["response"] = json!({"prediction": if i < 6 { "legit" } else { "fraud" }});
        } else {
            m["httpCode"] = json!(500);
            m["error"] = json!({"message": "Model failed: missing feature 'amount'"});
        }
        put(
            "api-1",
            &format!("2026-11-30T03:{i:02}:00.000Z"),
            "apinode-query",
            Some("svc-a"),
            m,
        );
    }
    // svc-b: 4 queries without latency, status OK.
    for i in 0..4 {
        put(
            "api-1",
            &format!("2026-11-29T03:{i:02}:00.000Z"),
            "apinode-query",
            Some("svc-b"),
            json!({"msgType": "prediction-query", "status": "OK", "response": {"prediction": 1.5}}),
        );
    }
    main.write();
    api.write();
    let engine = Engine::builder()
        .store(dir.path().join("store"))
        .store(dir.path().join("api-store"))
        .build()
        .unwrap();
    Data { _dir: dir, engine }
}

fn day(d: &str) -> Window {
    let since: auditrail_core::Timestamp = format!("{d}T00:00:00Z").parse().unwrap();
    Window {
        since: Some(since),
        until: auditrail_core::Timestamp::from_unix_millis(since.unix_millis() + 86_400_000),
    }
}

#[test]
fn node_usage_counts_each_event_once_across_stores() {
    let d = data();
    let nodes = block_on(reports::node_usage(&d.engine, Window::default())).unwrap();
    let by: BTreeMap<&str, _> = nodes.iter().map(|n| (n.node.as_str(), n)).collect();
    assert_eq!(
        by.keys().copied().collect::<Vec<_>>(),
        ["api-1", "automation-1", "design-1"]
    );
    assert_eq!(
        by["api-1"].events, 14,
        "apinode-query events are in two stores: counted once"
    );
    assert_eq!(by["api-1"].topics["apinode-query"], 14);
    assert_eq!(by["design-1"].events, 5 + 5 + 2 + 4);
    assert_eq!(
        by["design-1"].users, 2,
        "alice and bob; mallory only failed to log in"
    );
    assert_eq!(by["design-1"].failed_logins, 7);
    assert_eq!(by["automation-1"].events, 3 + 3);
    assert_eq!(by["automation-1"].users, 3, "erin, alice, and bob's job");
    assert_eq!(
        by["design-1"].first_seen.unwrap().to_string(),
        "2026-11-29T00:00:00.000Z"
    );
    assert_eq!(
        by["design-1"].last_seen.unwrap().to_string(),
        "2026-11-30T11:00:00.000Z"
    );
    assert!(d.engine.stats().duplicates >= 14, "{:?}", d.engine.stats());

    let day30 = block_on(reports::node_usage(&d.engine, day(DAY30))).unwrap();
    let api = day30.iter().find(|n| n.node == "api-1").unwrap();
    assert_eq!(api.events, 10);
    let hours = block_on(reports::events_per_hour(&d.engine, day(DAY30))).unwrap();
    let api_hours: Vec<_> = hours.iter().filter(|h| h.node == "api-1").collect();
    assert_eq!(api_hours.len(), 1);
    assert_eq!(api_hours[0].hour.to_string(), "2026-11-30T03:00:00.000Z");
    assert_eq!(api_hours[0].events, 10);
}

#[test]
fn last_activity_keeps_failed_logins_apart() {
    let d = data();
    let r = block_on(reports::last_activity(&d.engine, Window::default())).unwrap();
    let users: Vec<&str> = r.users.iter().map(|u| u.user.as_str()).collect();
    assert_eq!(users, ["bob", "alice", "erin"], "newest first; no mallory");
    let bob = &r.users[0];
    assert_eq!(bob.last_activity.to_string(), "2026-11-30T10:01:00.000Z");
    assert_eq!(bob.node, "automation-1");
    assert_eq!(bob.msg_type, "compute-resource-usage-complete");
    assert_eq!(bob.failed_logins, 2);
    let alice = &r.users[1];
    assert_eq!(alice.last_activity.to_string(), "2026-11-30T09:30:00.000Z");
    assert_eq!(alice.node, "automation-1");
    assert_eq!(alice.msg_type, "project-settings-save");
    assert_eq!(alice.events, 4 + 4, "4 generic events and 4 of job-1");
    assert_eq!(alice.failed_logins, 0);

    assert_eq!(r.failed_logins.len(), 2);
    let m = &r.failed_logins[0];
    assert_eq!(m.user.as_deref(), Some("mallory"));
    assert_eq!(m.attempts, 5);
    assert!(!m.has_activity);
    assert_eq!(m.client_ips, ["203.0.113.66", "203.0.113.67"]);
    assert_eq!(
        m.last_attempt.unwrap().to_string(),
        "2026-11-29T04:00:00.000Z"
    );
    assert!(r.failed_logins[1].has_activity);
}

#[test]
fn compute_counts_a_job_across_two_days_once() {
    let d = data();
    let all = block_on(reports::compute(
        &d.engine,
        ComputeBy::Project,
        Window::default(),
    ))
    .unwrap();
    let churn = all
        .iter()
        .find(|g| g.group.as_deref() == Some("CHURN"))
        .unwrap();
    assert_eq!(churn.usages, 1);
    assert_eq!(churn.cpu_time_ms, 5000.0, "the last update holds the total");
    assert_eq!(churn.wall_time_ms, 50 * 60 * 1000);
    assert_eq!(churn.types["LOCAL_PROCESS"], 1);

    let d29 = block_on(reports::compute(&d.engine, ComputeBy::Project, day(DAY29))).unwrap();
    let d30 = block_on(reports::compute(&d.engine, ComputeBy::Project, day(DAY30))).unwrap();
    let c29 = d29
        .iter()
        .find(|g| g.group.as_deref() == Some("CHURN"))
        .unwrap();
    let c30 = d30
        .iter()
        .find(|g| g.group.as_deref() == Some("CHURN"))
        .unwrap();
    assert_eq!(c29.cpu_time_ms, 2000.0);
    assert_eq!(c30.cpu_time_ms, 3000.0, "only what it used on the 30th");
    assert_eq!(c29.cpu_time_ms + c30.cpu_time_ms, churn.cpu_time_ms);
    assert_eq!(c29.wall_time_ms, 30 * 60 * 1000);
    assert_eq!(c30.wall_time_ms, 20 * 60 * 1000);
    assert!(d29.iter().all(|g| g.group.as_deref() != Some("FRAUD")));

    let by_user = block_on(reports::compute(
        &d.engine,
        ComputeBy::User,
        Window::default(),
    ))
    .unwrap();
    let bob = by_user
        .iter()
        .find(|g| g.group.as_deref() == Some("bob"))
        .unwrap();
    assert_eq!(
        (bob.usages, bob.cpu_time_ms, bob.wall_time_ms),
        (1, 700.0, 60_000)
    );
}

#[test]
fn api_answers_give_outcomes_answers_errors_and_latency() {
    let d = data();
    let services = block_on(reports::api_answers(&d.engine, Window::default())).unwrap();
    assert_eq!(services.len(), 2);
    let a = &services[0];
    assert_eq!(a.service.as_deref(), Some("svc-a"));
    assert_eq!(a.queries, 10, "each query once, though in two stores");
    assert_eq!(
        a.outcomes,
        BTreeMap::from([("200".into(), 8), ("500".into(), 2)])
    );
    assert_eq!(
        a.answers,
        [("legit".to_owned(), 6), ("fraud".to_owned(), 2)]
    );
    assert_eq!(
        a.errors,
        [("Model failed: missing feature 'amount'".to_owned(), 2)]
    );
    let l = a.latency.as_ref().unwrap();
    assert_eq!(l.count, 10);
    // Latencies 10..=100: continuous percentiles at rank p*(n-1).
    let close = |a: f64, b: f64| (a - b).abs() < 1e-3;
    assert!(close(l.p50, 55.0), "{}", l.p50);
    assert!(close(l.p90, 91.0), "{}", l.p90);
    assert!(close(l.p99, 99.1), "{}", l.p99);
    assert_eq!(l.max, 100.0);
    assert_eq!(l.mean, 55.0);
    let b = &services[1];
    assert_eq!(b.service.as_deref(), Some("svc-b"));
    assert_eq!(b.outcomes, BTreeMap::from([("OK".into(), 4)]));
    assert_eq!(b.answers, [("1.5".to_owned(), 4)]);
    assert!(b.latency.is_none());
}
