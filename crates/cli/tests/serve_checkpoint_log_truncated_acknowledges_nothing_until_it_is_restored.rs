//! An operator truncates the store's checkpoint log in place while the server runs
//! (`: > checkpoints.jsonl`, or logrotate's `copytruncate`, which copies the file aside
//! and empties it). The server used to go on answering `200`, writing its next seal at
//! the start of the emptied file without a word, and the next start refused the store
//! (`the log starts at checkpoint #2: checkpoints #1..#1 were removed`). Now nothing is
//! acknowledged while the log is shorter than what the server wrote: a batch gets `503`
//! (its events are stored, not sealed), the log says `writing a checkpoint failed`
//! naming the file, the size written and the size found, and nothing is written into
//! the emptied file. Once the saved bytes are copied back into it, the same retry is
//! acknowledged with a receipt (as duplicates), sealed in the one log, and the server
//! starts again on that log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

const CONFIG: &str =
    "data_dir = \"data\"\nack_timeout_ms = 3000\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

fn batch(first: u64) -> String {
    (first..first + 5)
        .map(|n| event_line(&new_id(n, 77), "n-ct", n) + "\n")
        .collect()
}

#[test]
fn a_batch_is_not_acknowledged_while_the_checkpoint_log_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let (status, answer) = post_events(&server.addr, &batch(1), None).unwrap();
    assert_eq!(status, 200, "{answer}");

    let log = dir.path().join("data/store/checkpoints.jsonl");
    let saved = std::fs::read(&log).unwrap();
    assert!(!saved.is_empty());
    // copytruncate: a copy aside, then the same file emptied.
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();

    let second = batch(6);
    let (status, answer) = post_events(&server.addr, &second, None).unwrap();
    assert_eq!(
        status, 503,
        "acknowledged with its seal written after a cut: {answer}"
    );
    wait_for_log(&server, "writing a checkpoint failed");
    let stderr = server.stderr();
    assert!(
        stderr.contains("checkpoints.jsonl: it was truncated")
            && stderr.contains(&format!(
                "it holds 0 bytes, {} were written to it",
                saved.len()
            )),
        "names the file and the sizes: {stderr}"
    );
    assert_eq!(
        std::fs::read(&log).unwrap(),
        b"",
        "a seal was written into the emptied log"
    );

    // The copy goes back into the same file: sealing resumes in it.
    std::fs::write(&log, &saved).unwrap();
    let (status, answer) = post_events(&server.addr, &second, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["duplicates"], 5, "{answer}");
    assert!(answer["receipt"].is_object(), "{answer}");
    let text = std::fs::read(&log).unwrap();
    assert!(text.starts_with(&saved) && text.len() > saved.len());
    assert_eq!(server.terminate(), 0);

    // The log is whole: the next start takes it.
    let server = start(dir.path(), &["--config", "server.toml"]);
    let (status, answer) = post_events(&server.addr, &batch(11), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
}
