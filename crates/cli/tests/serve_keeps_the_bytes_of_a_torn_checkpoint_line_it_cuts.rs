//! A power loss in the middle of a seal leaves part of a checkpoint line at the end of
//! `checkpoints.jsonl`. The restarted server cuts it, so the log stays one chain of
//! whole lines, but never silently: the bytes are appended to
//! `checkpoints.jsonl.cut` and a warning names the file, the offset and the length,
//! as the store does with a segment's torn tail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::io::Write;

use serve_support::*;

#[test]
fn a_restarted_server_logs_the_cut_and_keeps_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let body: String = (0..20)
        .map(|i| event_line(&new_id(i, 77), "node-t", i + 1) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);

    let log = dir.path().join("data/store/checkpoints.jsonl");
    let whole = std::fs::read(&log).unwrap();
    assert!(whole.ends_with(b"\n"), "a clean stop leaves whole lines");
    let fragment = br#"{"checkpoint":99,"storeId":"0193"#;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(fragment)
        .unwrap();

    let server = start(dir.path(), &["--data-dir", "data"]);
    wait_for_log(&server, "torn checkpoint line cut");
    let stderr = server.stderr();
    let warning = stderr
        .lines()
        .find(|l| l.contains("torn checkpoint line cut"))
        .unwrap();
    assert!(
        warning.contains("checkpoints.jsonl")
            && warning.contains(&whole.len().to_string())
            && warning.contains(&fragment.len().to_string()),
        "the warning names the file, the offset and the length: {warning}"
    );
    let side = dir.path().join("data/store/checkpoints.jsonl.cut");
    assert_eq!(std::fs::read(&side).unwrap(), fragment);
    // The log goes on from its last whole line (a start after a clean stop appends a
    // line of its own before it takes records), the fragment cut away.
    let now = std::fs::read(&log).unwrap();
    assert!(
        now.starts_with(&whole)
            && now.ends_with(b"\n")
            && !now.windows(fragment.len()).any(|w| w == fragment),
        "the log goes on from its last whole line: {}",
        String::from_utf8_lossy(&now)
    );

    // Sealing goes on after the last whole line.
    let more: String = (20..25)
        .map(|i| event_line(&new_id(i, 77), "node-t", i + 1) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &more, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    let text = std::fs::read(&log).unwrap();
    assert!(text.starts_with(&whole) && text.len() > whole.len());
}
