//! A report with no row is still valid output in every machine-readable format: `[]`
//! for `--format json`, nothing for `ndjson`, the header line alone for `csv` (so a
//! script reading the columns does not fail exactly when nothing happened).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;
use crate::serve_support;

const HEADERS: [(&str, &str); 5] = [
    (
        "last-activity",
        "user,lastActivity,node,msgType,events,failedLogins\n",
    ),
    (
        "failed-logins",
        "user,attempts,lastAttempt,clientIps,hasActivity,invalidValues\n",
    ),
    (
        "node-usage",
        "node,events,users,failedLogins,firstSeen,lastSeen,topics,invalidValues\n",
    ),
    (
        "compute",
        "group,usages,wallTimeMs,cpuTimeMs,types,invalidValues\n",
    ),
    (
        "api-answers",
        "service,queries,outcomes,msgTypes,answers,errors,latency,invalidValues\n",
    ),
];

#[test]
fn an_empty_report_is_an_empty_array_no_line_or_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let line = serve_support::event_line(&serve_support::new_id(1, 0xe3b0), "n1", 1);
    let (status, answer) = serve_support::post_events(&server.addr, &line, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);

    let store = dir.path().join("data/store");
    let node = common::Node::with_file_target("");
    // The store holds an event, outside this window.
    let run = |report: &str, format: &str| {
        let args = [
            "query",
            report,
            "--format",
            format,
            "--since",
            "2030-01-01",
            "--store",
            store.to_str().unwrap(),
        ];
        let out = node.run(&args, "");
        let (stdout, stderr) = common::text(&out);
        assert!(out.status.success(), "{args:?}: {stderr}");
        stdout
    };
    for (report, header) in HEADERS {
        assert_eq!(run(report, "json"), "[]\n", "{report} --format json");
        assert_eq!(run(report, "ndjson"), "", "{report} --format ndjson");
        assert_eq!(run(report, "csv"), header, "{report} --format csv");
    }
}
