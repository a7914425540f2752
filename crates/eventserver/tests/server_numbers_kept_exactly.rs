//! Numbers in a message are stored exactly as the client spelled them (integers beyond
//! 64 bits, `-0`, `1E2`, long decimals, exponents beyond `f64`), in every framing; the
//! chain and receipt vouch for those bytes, `verify` passes, and the store's reader
//! and the live view hand the same text back. Only whitespace between tokens goes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::ingest_support;

use ingest_support::*;

/// Messages as sent, and the text the store must keep for each.
const CASES: &[(&str, &str)] = &[
    (
        r#"{"msgType":"payment","txId":123456789012345678901234567890}"#,
        r#"{"msgType":"payment","txId":123456789012345678901234567890}"#,
    ),
    (
        r#"{"msgType":"n","neg":-0,"e":1E2,"big":-99999999999999999999999,"d":0.1000000000000000000000000001}"#,
        r#"{"msgType":"n","neg":-0,"e":1E2,"big":-99999999999999999999999,"d":0.1000000000000000000000000001}"#,
    ),
    (
        r#"{"msgType":"n","huge":1e400,"tiny":1e-400,"z":0.0,"u":18446744073709551616}"#,
        r#"{"msgType":"n","huge":1e400,"tiny":1e-400,"z":0.0,"u":18446744073709551616}"#,
    ),
    (
        // Whitespace between tokens (as Python's json.dumps writes) goes; strings keep
        // theirs, and their escapes.
        "{ \"msgType\": \"a b\", \"s\": \"\\u00e9 \\\" x\", \"n\": [ 1.50 , 2E+0 ] }",
        r#"{"msgType":"a b","s":"\u00e9 \" x","n":[1.50,2E+0]}"#,
    ),
];

#[test]
fn numbers_and_strings_are_stored_as_sent() {
    let mut server = Server::start(None);
    let lines: Vec<String> = CASES
        .iter()
        .enumerate()
        .map(|(i, (sent, _))| event_text("node-num", i as u64 + 1, None, sent))
        .collect();
    let (status, answer) = server.post(lines.join("\n"));
    assert_eq!(status, 200, "{answer}");
    assert!(answer["receipt"].is_object(), "{answer}");
    // The same, framed as a JSON array with newlines between tokens.
    let array: Vec<String> = CASES
        .iter()
        .enumerate()
        .map(|(i, (sent, _))| {
            event_text("node-arr", i as u64 + 1, None, &sent.replace(',', ",\n "))
        })
        .collect();
    let (status, answer) = server.post_array(format!("[\n{}\n]", array.join(",\n")));
    assert_eq!(status, 200, "{answer}");

    // The record lines hold the texts, byte for byte.
    let stored = stored_lines(&server.store());
    assert_eq!(stored.len(), 2 * CASES.len());
    for (_, kept) in CASES {
        let needle = format!("\"message\":{kept}}}");
        let found = stored.iter().filter(|l| l.contains(&needle)).count();
        assert_eq!(
            found,
            2,
            "{kept} not stored exactly twice in:\n{}",
            stored.join("\n")
        );
    }
    // The store's reader hands the same text back.
    for e in stored_events(&server.store()) {
        let kept = CASES.iter().find(|(_, k)| e.message.json() == *k);
        assert!(kept.is_some(), "read back altered: {}", e.message.json());
    }
    // The live view shows the events as sent.
    // (read as text: `1e400` is beyond what a `serde_json::Value` reads; the live view
    // shows each event's bytes from the request, whitespace included).
    let shown = server.get_text("/v1/recent?limit=100");
    for number in [
        "123456789012345678901234567890",
        "\"neg\":-0,",
        "1E2",
        "-99999999999999999999999",
        "0.1000000000000000000000000001",
        "1e400",
        "1e-400",
        "18446744073709551616",
        "1.50",
        "2E+0",
    ] {
        assert!(
            shown.contains(number),
            "{number} not shown as sent: {shown}"
        );
    }

    assert_eq!(server.stop(), Some(0));
    let (code, report) = verify(&server.data());
    assert_eq!(code, Some(0), "{report}");
}
