//! A server with a store and a `file` destination: a node's retry of a stored batch
//! after the server restarted was stored a second time (`verify` counted 10 records for
//! 5 events, one more copy per restart; a false WARN said another event reused the
//! number): the rebuild at start took an event as stored only if every destination
//! taking it showed it, which a `file` destination never can (final65/02). Now the
//! store decides: the retry is a duplicate there (one record) and is written to the
//! `file` destination again, as within one run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use auditrail_eventserver::config::ServerConfig;

use crate::server_support;

use server_support::*;

const STORE_AND_FILE: &str =
    "[[destinations]]\ntype = \"store\"\npath = \"store\"\n[[destinations]]\ntype = \"file\"\n";

/// The server's config in `dir`, with the `file` target type linked, as the
/// `auditrail` binary has it.
fn config(dir: &Path) -> ServerConfig {
    config_with_file(dir, STORE_AND_FILE)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_restart_is_stored_once_and_written_to_the_file_again() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let mut s = start_with(dir, c).await;
    let events: Vec<_> = (1..=5).map(|seq| event("n1", seq)).collect();
    let (status, _, first) = post(&s, ndjson(&events), None).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["accepted"].as_u64(), Some(5), "{first}");

    for restart in 1..=2 {
        let dir = s.dir;
        s.running.shutdown().await;
        let c = config(dir.path());
        let s2 = start_with(dir, c).await;
        let (status, _, again) = post(&s2, ndjson(&events), None).await;
        assert_eq!(status, 200, "{again}");
        let ids = stored_ids(&s2.store());
        let audit = s2.audit();
        for e in &events {
            let id = e["id"].as_str().unwrap();
            assert_eq!(
                ids.get(id).copied(),
                Some(1),
                "restart {restart}: the store holds one record of {id}: {again}"
            );
            assert_eq!(
                lines_holding(&audit, id),
                1 + restart,
                "restart {restart}: the file destination got the retry again"
            );
        }
        let stats = get_json(&s2, "/v1/stats").await;
        assert_eq!(
            stats["nodes"]["n1"]["seqReused"].as_u64(),
            Some(0),
            "{stats}"
        );
        s = s2;
    }
    s.running.shutdown().await;
}
