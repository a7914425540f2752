//! The de-duplication rebuilt at start reads the store as `auditrail verify` and queries
//! do (`StoredEvent::read`): a line they do not read as an event does not enter the
//! window, whatever id it claims. Here an acknowledged record was rewritten by hand: a
//! forged id, and a byte that is not UTF-8 in a field no reader looks at, which makes
//! the line no readable stored event. A new event with the forged id and the record's
//! content, sent after the restart, is stored. Before, the rebuild read the line with
//! the looser `Record::parse`, took the forged id for a stored event, and answered the
//! new event as a duplicate: `200`, nothing stored, and the node dropped it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;
use crate::tamper_support;

use serve_support::{event_line, new_id, post_events, start};
use tamper_support::{stop, try_start, CONFIG};

#[test]
fn a_new_event_with_the_forged_id_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    let body: String = (1..=10u64)
        .map(|n| event_line(&new_id(n, 94), "n1", n) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(stop(server), 0);

    // Record 5 (below the last checkpoint: kept by recovery) rewritten in place.
    let forged = new_id(5, 95);
    let store = dir.path().join("data/store");
    let segment = auditrail_testkit::store::record_files(&store)
        .into_iter()
        .find(|f| std::fs::read_to_string(f).unwrap().contains(&new_id(5, 94)))
        .unwrap();
    let text = std::fs::read_to_string(&segment).unwrap();
    let mut bytes = Vec::new();
    for line in text.lines() {
        if line.contains(&new_id(5, 94)) {
            let edited = line
                .replace(&new_id(5, 94), &forged)
                .replacen("\"keyId\":", "\"note\":\"\u{1}\",\"keyId\":", 1)
                .into_bytes();
            // The control character stands for the byte that is not UTF-8.
            let at = edited.iter().position(|&b| b == 1).unwrap();
            bytes.extend_from_slice(&edited[..at]);
            bytes.push(0xff);
            bytes.extend_from_slice(&edited[at + 1..]);
        } else {
            bytes.extend_from_slice(line.as_bytes());
        }
        bytes.push(b'\n');
    }
    std::fs::write(&segment, bytes).unwrap();

    let server = try_start(dir.path()).unwrap_or_else(|(c, e)| panic!("exit {c}: {e}"));
    let (status, answer) =
        post_events(&server.addr, &(event_line(&forged, "n1", 5) + "\n"), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["accepted"].as_u64(), answer["duplicates"].as_u64()),
        (Some(1), Some(0)),
        "the new event is stored, not taken for the unreadable line: {answer}"
    );
    assert_eq!(stop(server), 0);
}
