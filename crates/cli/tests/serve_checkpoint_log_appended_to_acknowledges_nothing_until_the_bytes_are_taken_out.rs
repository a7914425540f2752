//! Someone appends a byte without a newline to the store's checkpoint log while the
//! server runs (`printf x >> checkpoints.jsonl`). The server used to append its next
//! signed lines right after it (`x{"checkpoint":2,...}`), answer `200` and stay ready;
//! the next start then refused the damaged log. Now a log longer than the server wrote
//! is not appended to, as one cut short is not: a batch gets `503` (stored, not
//! sealed), the log says `writing a checkpoint failed` naming the file, the length
//! written and the length found, and nothing is written after the foreign byte. Once
//! it is taken out, the same retry is acknowledged (as duplicates) with a receipt. A
//! byte left there at a stop is cut aside by the next start (`checkpoints.jsonl.cut`),
//! which starts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;

use crate::serve_support;

use serve_support::*;

const CONFIG: &str =
    "data_dir = \"data\"\nack_timeout_ms = 3000\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

fn batch(first: u64) -> String {
    (first..first + 5)
        .map(|n| event_line(&new_id(n, 632), "n-cx", n) + "\n")
        .collect()
}

fn append_x(log: &std::path::Path) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(log)
        .unwrap()
        .write_all(b"x")
        .unwrap();
}

#[test]
fn a_batch_is_not_acknowledged_while_the_checkpoint_log_holds_bytes_the_server_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let (status, answer) = post_events(&server.addr, &batch(1), None).unwrap();
    assert_eq!(status, 200, "{answer}");

    let log = dir.path().join("data/store/checkpoints.jsonl");
    let saved = std::fs::read(&log).unwrap();
    assert!(saved.ends_with(b"\n"));
    append_x(&log);

    let second = batch(6);
    let (status, answer) = post_events(&server.addr, &second, None).unwrap();
    assert_eq!(
        status, 503,
        "acknowledged with its seal glued to a byte the server did not write: {answer}"
    );
    wait_for_log(&server, "writing a checkpoint failed");
    let stderr = server.stderr();
    assert!(
        stderr.contains(&format!(
            "checkpoints.jsonl: bytes this process did not write were appended to it: it \
             holds {} bytes, {} were written to it",
            saved.len() + 1,
            saved.len()
        )),
        "names the file and the lengths: {stderr}"
    );
    let mut with_x = saved.clone();
    with_x.push(b'x');
    assert_eq!(
        std::fs::read(&log).unwrap(),
        with_x,
        "a seal was written after the foreign byte"
    );

    // The byte is taken out: sealing resumes in the same file.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(saved.len() as u64)
        .unwrap();
    let (status, answer) = post_events(&server.addr, &second, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["duplicates"], 5, "{answer}");
    assert!(answer["receipt"].is_object(), "{answer}");
    let text = std::fs::read(&log).unwrap();
    assert!(text.starts_with(&saved) && text.len() > saved.len());

    // A foreign byte left there at a stop: the stop's seal is not written after it,
    // and the next start cuts it aside and starts.
    let before_stop = text.len();
    append_x(&log);
    server.terminate();
    assert_eq!(std::fs::read(&log).unwrap().len(), before_stop + 1);
    let server = start(dir.path(), &["--config", "server.toml"]);
    let (status, answer) = post_events(&server.addr, &batch(11), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    assert_eq!(
        std::fs::read(dir.path().join("data/store/checkpoints.jsonl.cut")).unwrap(),
        b"x"
    );
}
