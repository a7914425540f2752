//! `<data dir>/high-water.jsonl` removed while the server runs (an operator, a cleanup
//! job): nothing was logged, batches went on being acknowledged, and the file came back
//! only at the next published checkpoint (up to a minute) or a clean stop. A crash in
//! that window (`kill -9`, a power cut: "safe for the data, recovered at the next
//! start") and the server refused to start ("no high-water mark for this store") until
//! a person ran `store accept`. Now the next sealed batch puts the file back as the
//! server last signed it, with a warning, and a crash right after leaves a server that
//! starts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::{event_line, new_id, post_events, start};

#[test]
fn a_removed_high_water_file_is_written_again_and_a_crash_after_it_still_starts() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let post = |server: &serve_support::ServerProc, n: u64| {
        post_events(&server.addr, &event_line(&new_id(n, 97), "n1", n), None)
            .unwrap()
            .0
    };
    assert_eq!(post(&server, 1), 200);
    let marks = dir.path().join("data/high-water.jsonl");
    let before = std::fs::read(&marks).unwrap();
    std::fs::remove_file(&marks).unwrap();

    assert_eq!(post(&server, 2), 200);
    // Back once the batch was sealed, before its answer; as the server signed it.
    assert_eq!(
        std::fs::read(&marks).ok().as_deref(),
        Some(before.as_slice()),
        "{}",
        server.stderr()
    );
    assert!(
        server.stderr().lines().any(|l| l.contains("WARN")
            && l.contains("high-water marks file was changed while the server runs")
            && l.contains("removed: written again as the server last signed it")),
        "{}",
        server.stderr()
    );

    server.kill9();
    // Starts (bounded wait for "listening on"), without `store accept`.
    let server = start(dir.path(), &["--data-dir", "data"]);
    assert_eq!(post(&server, 3), 200);
    assert_eq!(server.terminate(), 0);
}
