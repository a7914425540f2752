//! `--format csv` wrote a null and the empty text alike, as an empty field: the compute
//! usages without a project and a project whose key is `""` read as one group to every
//! CSV reader (and so did `sql`'s `NULL` and `''`). Now CSV follows PostgreSQL's `COPY
//! ... CSV`: a null is an empty field, unquoted, the empty text `""`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use serde_json::json;

use crate::common;
use crate::serve_support;

fn usage(seq: u64, context: serde_json::Value, cpu: u64) -> String {
    json!({"id": serve_support::new_id(seq, 0xc5a0), "timestamp": "2026-11-25T10:00:00.000Z",
        "topic": "compute-resource-usage", "node": "n1", "seq": seq,
        "message": {"msgType": "compute-resource-usage-complete", "computeResourceUsage": {
            "id": format!("u{seq}"), "type": "job", "context": context,
            "localProcess": {"cpuTotalMS": cpu}}}})
    .to_string()
}

#[test]
fn a_null_is_an_empty_field_and_the_empty_text_is_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let events = [
        usage(1, json!({"projectKey": ""}), 100),
        usage(2, json!({}), 700),
    ]
    .join("\n");
    let (status, answer) = serve_support::post_events(&server.addr, &events, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);

    let store = dir.path().join("data/store");
    let node = common::Node::with_file_target("");
    let run = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["--format", "csv", "--store", store.to_str().unwrap()]);
        let out = node.run(&args, "");
        let (stdout, stderr) = common::text(&out);
        assert!(out.status.success(), "{args:?}: {stderr}");
        stdout
    };

    let csv = run(&["query", "compute", "--by", "project"]);
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    let mut groups: Vec<&str> = rows.iter().map(|r| r.split(',').next().unwrap()).collect();
    groups.sort_unstable();
    assert_eq!(
        groups,
        ["", "\"\""],
        "the null group, then the project \"\": {csv}"
    );

    assert_eq!(
        run(&["sql", "SELECT NULL AS a, '' AS b, 'x' AS c, '' AS d"]),
        "a,b,c,d\n,\"\",x,\"\"\n"
    );
}
