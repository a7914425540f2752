//! A `/v1/query` query whose spill files (a `DISTINCT` of many long values, past the
//! engine's 256 MiB) would pass `max_query_spill_bytes` fails alone, `507
//! query_spill_limit` naming the setting, its spill folder removed; ingest and the next
//! query go on. Before, a query's spill files could grow to DataFusion's default of
//! 100 GiB, on the disk the stores write to: one heavy query filled it and stopped
//! ingest. The server runs in this test's process, with the `auditrail` binary as its
//! query worker.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::query_support;
use crate::serve_support;

use query_support::{assert_spill_folder_empty, query, serve_with_worker, SPILLING};
use serve_support::{event_line, new_id, post_events};

/// 1 MiB: the query's first spill passes it.
const SPILL_LIMIT: u64 = 1024 * 1024;

#[test]
fn a_query_past_its_spill_limit_fails_alone_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let s = serve_with_worker(&dir.path().join("data"), |q| {
        q.spill_dir = spill.clone();
        q.max_spill_bytes = SPILL_LIMIT;
        // At the server's priority: on a machine busy with other work (CI runs tests
        // side by side), a worker at the default niceness 19 gets little CPU, and
        // meets its time limit before what this test checks.
        q.niceness = 0;
    });
    let addr = s.running.local_addr().to_string();
    let line = event_line(&new_id(1, 0x5b11), "n1", 1);
    assert_eq!(post_events(&addr, &line, None).unwrap().0, 200);

    let (status, answer) = query(&addr, SPILLING);
    assert_eq!(status, 507, "{answer}");
    assert_eq!(answer["error"], "query_spill_limit", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains("max_query_spill_bytes"), "{answer}");
    assert!(
        message.contains(&format!("{SPILL_LIMIT} bytes")),
        "{answer}"
    );
    assert_spill_folder_empty(&spill, "the query");

    // Ingest goes on, and the next query is answered, new event and all.
    let line = event_line(&new_id(2, 0x5b11), "n1", 2);
    assert_eq!(post_events(&addr, &line, None).unwrap().0, 200);
    let (status, answer) = query(&addr, "SELECT count(*) AS n FROM events");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rows"][0]["n"], 2);
    let report = s.runtime.block_on(s.running.shutdown());
    assert!(report.destinations.is_clean());
}
