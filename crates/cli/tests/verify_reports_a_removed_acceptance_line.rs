//! The line of the checkpoint log that records an operator's acceptance (`auditrail
//! store accept`) is signed and linked like every other line, and the high-water mark
//! is moved to it: whoever can write the data dir but has no key cannot remove it
//! (together with `acceptances.jsonl`) without `verify` failing: followed by later
//! lines, their `prev` link breaks (`checkpoint-chain`); as the log's last line, the
//! mark names it (`rolled-back`). The server refuses to start on either.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use std::path::Path;

use auditrail_integrity::high_water::ACCEPTANCES_FILE;
use tamper_support::*;

/// Fifty records rolled back to thirty and accepted; returns the trusted key, the
/// store and the number of the acceptance's line.
fn accepted_rollback(dir: &Path) -> (String, std::path::PathBuf, usize) {
    let (key, store) = fifty_records(dir);
    let (kept_index, _) = roll_back(&store, 30);
    let (code, out) = accept(dir, "restored from the backup of monday");
    assert_eq!(code, 0, "{out}");
    let lines = log_lines(&store);
    let at = kept_index as usize + 1;
    assert!(
        lines
            .get(at - 1)
            .is_some_and(|l| l.contains("\"accepted\":")),
        "{lines:#?}"
    );
    (key, store, at)
}

fn remove_line(store: &Path, at: usize) {
    let mut lines = log_lines(store);
    lines.remove(at - 1);
    std::fs::write(
        store.join("checkpoints.jsonl"),
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
}

#[test]
fn an_acceptance_line_removed_from_between_later_lines_breaks_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store, at) = accepted_rollback(dir.path());
    let server = try_start(dir.path()).unwrap_or_else(|(c, l)| panic!("exit {c}: {l}"));
    post_ten(&server, 61);
    assert_eq!(stop(server), 0);

    remove_line(&store, at);
    std::fs::remove_file(dir.path().join("data").join(ACCEPTANCES_FILE)).unwrap();
    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        error_kinds(&report).contains(&"checkpoint-chain".to_string()),
        "{report:#}"
    );
    let (code, log) = match try_start(dir.path()) {
        Ok(server) => {
            server.terminate();
            panic!("the server started on a log missing its acceptance line");
        }
        Err(e) => e,
    };
    assert_ne!(code, 0);
    assert!(log.contains("damaged"), "{log}");
}

#[test]
fn an_acceptance_line_removed_from_the_end_of_the_log_is_a_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store, at) = accepted_rollback(dir.path());

    remove_line(&store, at);
    std::fs::remove_file(dir.path().join("data").join(ACCEPTANCES_FILE)).unwrap();
    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        error_kinds(&report).contains(&"rolled-back".to_string()),
        "{report:#}"
    );
    assert!(
        try_start(dir.path()).is_err(),
        "the server refuses a log shorter than its mark"
    );
}
