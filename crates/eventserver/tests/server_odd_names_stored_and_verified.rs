//! Every topic and routing key the ingest accepts is stored under a folder name that
//! fits the file system and that every reader walks: 256-character keys, 256 bytes of
//! "é", four-byte characters, bidirectional overrides and other format characters,
//! names starting with `.` or `-`, upper case, spaces, and a batch of generated names.
//! Each event is answered 200, later events from other nodes too, `verify` passes on
//! the untouched store (no false tamper alarm), and the exact names are kept in the
//! records and shown by `query`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::ingest_support;

use ingest_support::*;

/// Routing keys written by hand: each one a kind of name that used to fail.
fn odd_routing_keys() -> Vec<String> {
    vec![
        "k".repeat(256),
        "é".repeat(128),
        "é".repeat(256),
        "𝄞".repeat(256),
        ".hidden".into(),
        "..a".into(),
        "._".into(),
        "...".into(),
        "-rf".into(),
        "svc\u{202e}txt.exe".into(),
        "a\u{200b}b".into(),
        "Deployment 42".into(),
        "SVC-A".into(),
        "svc-a".into(),
        "a~b".into(),
        "store-id".into(),
    ]
}

/// Generated routing keys: every length up to the limit over an alphabet of plain,
/// upper-case, non-ASCII, format and punctuation characters (a fixed xorshift seed, so
/// a failure repeats).
fn generated_routing_keys(n: usize) -> Vec<String> {
    const ALPHABET: &[char] = &[
        'a', 'z', '0', '.', '_', '-', 'A', 'Z', ' ', '~', ':', '*', '?', '"', '<', '>', '|', 'é',
        'ß', 'Ω', '中', '𝄞', '\u{200e}', '\u{202d}', '\u{2066}', '\u{feff}', '\u{00a0}',
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let len = 1 + (next() % 256) as usize;
            let mut key: String = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            if key == "." || key == ".." {
                key.push('x');
            }
            key
        })
        .collect()
}

const ODD_TOPICS: &[&str] = &[".hidden", "..a", "._", "-x", "_none", "a.", "generic"];

#[test]
fn odd_names_are_stored_verified_and_shown_exactly() {
    let mut server = Server::start(Some(
        "ack_timeout_ms = 5000\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    ));
    let mut keys = odd_routing_keys();
    keys.extend(generated_routing_keys(200));
    let mut sent = Vec::new();
    // One request per key (each its own batch: a wedged store would show at the next).
    for (i, key) in keys.iter().enumerate() {
        let line = event_text(
            "node-odd",
            i as u64 + 1,
            Some(key),
            r#"{"msgType":"q","status":"ok"}"#,
        )
        .replace("\"topic\":\"generic\"", "\"topic\":\"apinode-query\"");
        let (status, answer) = server.post(line);
        assert_eq!(status, 200, "routing key {key:?}: {answer}");
        sent.push(key.clone());
        // A plain event from another node right after is never held up.
        let plain = event_text("node-plain", i as u64 + 1, None, r#"{"msgType":"x"}"#);
        let (status, answer) = server.post(plain);
        assert_eq!(status, 200, "after routing key {key:?}: {answer}");
    }
    for (i, topic) in ODD_TOPICS.iter().enumerate() {
        let line = event_text(
            "node-topic",
            i as u64 + 1,
            Some("svc-a"),
            r#"{"msgType":"x"}"#,
        )
        .replace(
            "\"topic\":\"generic\"",
            &format!("\"topic\":{}", serde_json::to_string(topic).unwrap()),
        );
        let (status, answer) = server.post(line);
        assert_eq!(status, 200, "topic {topic:?}: {answer}");
    }

    // Every folder name fits NAME_MAX and is neither hidden nor an option.
    let mut stack = vec![server.store()];
    while let Some(dir) = stack.pop() {
        // Folders only: the store's own files have fixed names, some hidden on
        // purpose (`.prune-reserve`, `.deleted-seqs.jsonl`: no reader takes them for
        // a segment); the folders are the ones named after what clients send.
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if !entry.file_type().unwrap().is_dir() {
                continue;
            }
            let name = entry.file_name().into_string().unwrap();
            assert!(
                name.len() <= 255 && !name.starts_with(['.', '-']),
                "{name:?}"
            );
            stack.push(entry.path());
        }
    }

    // The records keep the exact names.
    let events = stored_events(&server.store());
    assert_eq!(events.len(), 2 * keys.len() + ODD_TOPICS.len());
    let mut stored_keys: Vec<String> = events
        .iter()
        .filter(|e| e.node.as_str() == "node-odd")
        .map(|e| e.routing_key.as_ref().unwrap().as_str().to_owned())
        .collect();
    stored_keys.sort();
    sent.sort();
    assert_eq!(stored_keys, sent);
    let mut topics: Vec<&str> = events
        .iter()
        .filter(|e| e.node.as_str() == "node-topic")
        .map(|e| e.topic.as_str())
        .collect();
    topics.sort_unstable();
    let mut expected = ODD_TOPICS.to_vec();
    expected.sort_unstable();
    assert_eq!(topics, expected);

    assert_eq!(server.stop(), Some(0));
    // verify: the untouched store passes (nothing skipped, no false alarm).
    let (code, report) = verify(&server.data());
    assert_eq!(code, Some(0), "{report}");
    // query shows the exact routing keys (api-answers groups by routing key).
    let data = server.data().display().to_string();
    let (code, out, err) = cli(
        &["query", "api-answers", "--dir", &data, "--json"],
        &server.data(),
    );
    assert_eq!(code, Some(0), "{err}");
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    let text = shown.to_string();
    for key in &sent {
        let quoted = serde_json::to_string(key).unwrap();
        assert!(
            text.contains(&quoted),
            "query does not show {quoted}: {text}"
        );
    }
}
