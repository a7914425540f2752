//! The checkpoint events a server sends its `[[witnesses]]` come from one node of its
//! own, distinct from any other server's, whose sequence numbers go on across
//! restarts: a real witness server that two runs of one server and one run of another
//! publish to reports no reused sequence number, no gap and no duplicate for either,
//! and stores every line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;
use crate::tamper_support;

use std::path::Path;

use serve_support::{event_line, new_id, post_events, request, start, ServerProc};
use tamper_support::stop;

fn write_config(d: &Path, name: &str, witness: &ServerProc) {
    std::fs::write(
        d.join(format!("{name}.toml")),
        format!(
            "data_dir = \"{name}-data\"\nshutdown_timeout_s = 2\n[checkpoints]\nevery_records = 10\n\
             [[witnesses]]\ntype = \"eventserver\"\nurl = \"http://{}\"\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
            witness.addr
        ),
    )
    .unwrap();
}

/// One run of the server `name`: 30 events in three batches (each past
/// `every_records`, so each publishes a line), then a graceful stop (a final line).
fn one_run(d: &Path, name: &str, salt: u64) {
    let server = start(d, &["--config", &format!("{name}.toml")]);
    for batch in 0..3u64 {
        let first = batch * 10 + 1;
        let body: String = (first..first + 10)
            .map(|n| event_line(&new_id(n, salt), "n1", salt * 1000 + n) + "\n")
            .collect();
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(stop(server), 0);
}

#[test]
fn two_servers_and_a_restart_leave_no_reused_number_and_no_gap_at_the_witness() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let witness = start(d, &["--data-dir", "witness-data"]);
    write_config(d, "a", &witness);
    write_config(d, "b", &witness);
    one_run(d, "a", 1);
    one_run(d, "a", 2);
    one_run(d, "b", 3);

    let (status, body) = request(&witness.addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    let nodes = stats["nodes"].as_object().unwrap();
    let stored = serve_support::stored_ids(&d.join("witness-data/store")).len() as u64;
    assert!(stored >= 8, "too few checkpoint events stored: {stored}");
    assert_eq!(
        nodes.len(),
        2,
        "one node per source server (the two servers must not share one): {stats:#}"
    );
    let mut counted = 0;
    for (node, n) in nodes {
        assert_eq!(
            n["seqReused"], 0,
            "{node} reused sequence numbers: {stats:#}"
        );
        assert_eq!(n["missing"], 0, "{node} has gaps: {stats:#}");
        assert_eq!(n["duplicates"], 0, "{node}: {stats:#}");
        assert_eq!(
            n["highestContiguousSeq"], n["count"],
            "{node}: numbers 1..count, each once: {stats:#}"
        );
        counted += n["count"].as_u64().unwrap();
    }
    assert_eq!(counted, stored, "every stored line is counted: {stats:#}");
    assert_eq!(stop(witness), 0);
}
