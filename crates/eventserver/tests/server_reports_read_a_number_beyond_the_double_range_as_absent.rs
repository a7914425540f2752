//! A message keeps its numbers as sent, `1e400` too (valid JSON, beyond the range of a
//! double). The reports read such a number as absent, as a missing one: a service's
//! latency (`report=api-answers`) and a project's CPU time (`report=compute`) are those
//! of the real values. Before, the engine read it as infinity, and one such event made
//! the service's maximum, mean and upper percentiles, or the project's CPU time,
//! infinite or NaN, which the JSON answer writes as `null`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::json;
use server_support::*;

/// An event of `topic` whose message is `message`, spelled as text (so that `1e400`
/// reaches the server as written).
fn spelled(seq: u64, topic: &str, routing_key: Option<&str>, message: &str) -> String {
    let mut e = event_with("n1", seq, topic, routing_key);
    e["message"] = json!("MESSAGE");
    e.to_string().replace("\"MESSAGE\"", message)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_and_cpu_time_are_those_of_the_real_values() {
    let s = start(STORE).await;
    let mut lines = Vec::new();
    for (seq, ms) in [(1, "10"), (2, "20"), (3, "1e400"), (4, "-1e400")] {
        let message =
            format!(r#"{{"msgType":"prediction-query","httpCode":200,"responseTimeMS":{ms}}}"#);
        lines.push(spelled(seq, "apinode-query", Some("svc-a"), &message));
    }
    for (seq, usage, cpu) in [
        (5, "job-1", "500"),
        (6, "job-2", "1e400"),
        (7, "job-3", "-1e400"),
    ] {
        let message = format!(
            r#"{{"msgType":"compute-resource-usage-complete","computeResourceUsage":{{"id":"{usage}","type":"job","context":{{"projectKey":"p"}},"localProcess":{{"cpuTotalMS":{cpu}}}}}}}"#
        );
        lines.push(spelled(seq, "compute-resource-usage", None, &message));
    }
    assert_eq!(post(&s, lines.join("\n"), None).await.0, 200);

    let api = s.report("api-answers").await;
    assert_eq!(api[0]["service"], "svc-a", "{api}");
    assert_eq!(api[0]["queries"], 4, "{api}");
    let latency = &api[0]["latency"];
    assert_eq!(latency["count"], 2, "{latency}");
    assert_eq!(latency["max"], 20.0, "{latency}");
    assert_eq!(latency["mean"], 15.0, "{latency}");
    for p in ["p50", "p90", "p99"] {
        let v = latency[p]
            .as_f64()
            .unwrap_or_else(|| panic!("{p}: {latency}"));
        assert!((10.0..=20.0).contains(&v), "{p}: {latency}");
    }

    let compute = s.report("compute").await;
    assert_eq!(compute[0]["group"], "p", "{compute}");
    assert_eq!(compute[0]["usages"], 3, "{compute}");
    assert_eq!(compute[0]["cpuTimeMs"], 500.0, "{compute}");
}
