//! Routing keys are compared code point for code point, as sent (never normalized or
//! case-folded). An event whose key is the one a destination lists in another Unicode
//! normalization form (`cafe` + U+0301 against `caf` + U+00E9, which look alike) or
//! case is refused `422 unrouted` as before; the refusal now names the listed key and
//! how the two differ, where it said only "matches no destination's filter", and the
//! differing code points (`{:?}` shows U+212B and U+00C5, or `e` + U+0301 and U+00E9,
//! alike).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::ingest_support;

use ingest_support::*;

const ONLY_CAFE_NFC: &str = "[[destinations]]\ntype = \"store\"\npath = \"store\"\n\
     routing_keys = [\"caf\u{e9}\", \"Svc-A\"]\n";

#[test]
fn the_refusal_names_the_listed_key_the_events_key_reads_like() {
    let server = Server::start(Some(ONLY_CAFE_NFC));
    let nfd = event_text("node-l", 1, Some("cafe\u{301}"), r#"{"msgType":"login"}"#);
    let (status, answer) = server.post(format!("{nfd}\n"));
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"], "unrouted", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains(
            "a destination's routing_keys list \"caf\u{e9}\", the same text in another \
             Unicode normalization form (NFC/NFD, UAX #15): U+00E9 listed where U+0065 \
             U+0301 was sent"
        ),
        "{answer}"
    );
    let lower = event_text("node-l", 2, Some("svc-a"), r#"{"msgType":"login"}"#);
    let (status, answer) = server.post(format!("{lower}\n"));
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("list \"Svc-A\", the same letters in another case"),
        "{answer}"
    );
    // The spelling listed is taken, and stored as sent.
    let nfc = event_text("node-l", 3, Some("caf\u{e9}"), r#"{"msgType":"login"}"#);
    let (status, answer) = server.post(format!("{nfc}\n"));
    assert_eq!(status, 200, "{answer}");
}
