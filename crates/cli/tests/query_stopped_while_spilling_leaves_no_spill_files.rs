//! A `/v1/query` query that spills to disk (a `DISTINCT` of many long values, past the
//! engine's 256 MiB) and is stopped at the time limit (its worker killed) leaves none of
//! its spill files behind: each query spills in a folder of its own under
//! `queries.spill_dir`, which the server removes once the worker has ended. Before,
//! the killed worker's files stayed in the temporary folder for ever (2.3 GB for one
//! such query of the debug build), and a reader repeating it filled the disk. The server
//! runs in this test's process, with the `auditrail` binary as its query worker.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::query_support;
use crate::serve_support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use query_support::{
    assert_spill_folder_empty, files_under, query, serve_with_worker, workers_of, SPILLING,
};
use serve_support::{event_line, new_id, post_events};

#[test]
fn a_query_killed_while_spilling_leaves_no_spill_files() {
    let dir = tempfile::tempdir().unwrap();
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let s = serve_with_worker(&dir.path().join("data"), |q| {
        q.time_limit = Duration::from_secs(10);
        q.spill_dir = spill.clone();
        // At the server's priority: on a machine busy with other work (CI runs tests
        // side by side), a worker at the default niceness 19 gets little CPU, and
        // meets its time limit before what this test checks.
        q.niceness = 0;
        // Stopped by the time limit, however fast the machine spills.
        q.max_spill_bytes = u64::MAX;
    });
    let addr = s.running.local_addr().to_string();
    let line = event_line(&new_id(1, 91), "n1", 1);
    assert_eq!(post_events(&addr, &line, None).unwrap().0, 200);

    // Watches the spill folder while the query runs: the test means something only if
    // the query did spill before it was stopped.
    let done = Arc::new(AtomicBool::new(false));
    let most = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (done, most, spill) = (done.clone(), most.clone(), spill.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                most.fetch_max(files_under(&spill).len(), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let (status, answer) = query(&addr, SPILLING);
    done.store(true, Ordering::SeqCst);
    watcher.join().unwrap();
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"], "query_time_limit", "{answer}");
    assert!(
        most.load(Ordering::SeqCst) > 0,
        "the query wrote no spill file in {} before it was stopped: it tests nothing",
        spill.display()
    );
    assert_eq!(workers_of(std::process::id()), Vec::<u32>::new());
    assert_spill_folder_empty(&spill, "the stopped query");

    // The next query is answered, and spills in a folder of its own again.
    let (status, answer) = query(&addr, "SELECT count(*) AS n FROM events");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rows"][0]["n"], 1);
    let report = s.runtime.block_on(s.running.shutdown());
    assert!(report.destinations.is_clean());
}
