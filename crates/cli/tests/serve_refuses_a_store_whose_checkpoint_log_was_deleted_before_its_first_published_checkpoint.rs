//! Before a store's first published checkpoint its high-water mark names checkpoint 0
//! (written when the server attached the store), so it cannot show seal lines removed.
//! A checkpoint log deleted while the server is stopped would then have been followed
//! by a new chain of lines, signed over the records as found, without a word. The
//! server created the log when it attached the store, and a crash does not remove it:
//! a store with records, a mark, and no log is refused like a log that lost the mark's
//! line, naming the file and what the mark shows, and nothing is signed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;
use crate::tamper_support;

use serve_support::*;
use tamper_support::*;

/// Seals for every batch, none published while the server runs (by count or time).
const SEALS_ONLY: &str = r#"
[checkpoints]
every_records = 0
every_seconds = 0
seal_every_batch = true

[[destinations]]
type = "store"
path = "store"
"#;

#[test]
fn a_deleted_log_under_a_mark_at_checkpoint_0_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), SEALS_ONLY).unwrap();
    let server = try_start(dir.path()).unwrap_or_else(|(c, l)| panic!("exit {c}: {l}"));
    let body: String = (0..30)
        .map(|i| event_line(&new_id(i, 93), "node-d", i + 1) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    // Killed: a clean stop would publish its last line.
    server.kill9();
    let log = dir.path().join("data/store/checkpoints.jsonl");
    let sealed = std::fs::read_to_string(&log).unwrap();
    assert!(sealed.lines().count() >= 1, "the batch was sealed");
    assert_eq!(marked(dir.path()).0, 0, "no line was published");

    std::fs::remove_file(&log).unwrap();
    let (code, stderr) = match try_start(dir.path()) {
        Ok(server) => {
            server.terminate();
            panic!("the server started on a store whose checkpoint log was deleted");
        }
        Err(e) => e,
    };
    assert_ne!(code, 0, "{stderr}");
    assert!(
        stderr.contains("checkpoints.jsonl is missing")
            && stderr.contains("30 records")
            && stderr.contains("high-water.jsonl")
            && stderr.contains("auditrail store accept"),
        "the refusal names the log, what the store and the mark show, and the way on: {stderr}"
    );
    assert!(!log.exists(), "nothing was signed");
}
