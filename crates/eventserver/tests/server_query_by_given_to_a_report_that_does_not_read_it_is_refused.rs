//! `by` (project or user) is read by `report=compute` only: given to another report
//! (`report=node-usage&by=user`) it is refused with `400 bad_query` naming both, as
//! the CLI refuses `query node-usage --by user`. Before, it was ignored in silence and
//! the answer looked like one grouped by user.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_with_node_usage_is_refused_and_with_compute_answered() {
    let s = start(STORE).await;
    for report in [
        "node-usage",
        "last-activity",
        "events-per-hour",
        "api-answers",
    ] {
        let resp = s
            .client
            .get(s.url("/v1/query"))
            .query(&[("report", report), ("by", "user")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{report}");
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(answer["error"], "bad_query", "{report}: {answer}");
        assert_eq!(
            answer["message"],
            format!("by goes with report=compute, not report={report}"),
            "{report}"
        );
    }
    let resp = s
        .client
        .get(s.url("/v1/query"))
        .query(&[("report", "compute"), ("by", "user")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}
