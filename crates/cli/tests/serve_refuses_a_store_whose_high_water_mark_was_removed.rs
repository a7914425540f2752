//! The attacker removes the data dir's high-water marks (to hide a shortened
//! checkpoint log): the server refuses to start on a store that has records but no
//! mark, naming the marks file, instead of signing over whatever log it finds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use tamper_support::*;

#[test]
fn a_store_with_records_but_no_high_water_mark_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_key, store) = fifty_records(dir.path());
    let log = store.join("checkpoints.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, format!("{}\n", text.lines().next().unwrap())).unwrap();
    std::fs::remove_file(dir.path().join("data/high-water.jsonl")).unwrap();

    let (code, log_text) = match try_start(dir.path()) {
        Ok(server) => {
            server.terminate();
            panic!("the server started without a high-water mark");
        }
        Err(e) => e,
    };
    assert_ne!(code, 0);
    assert!(
        log_text.contains("no high-water mark") && log_text.contains("high-water.jsonl"),
        "{log_text}"
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap().lines().count(),
        1,
        "nothing was signed"
    );
}
