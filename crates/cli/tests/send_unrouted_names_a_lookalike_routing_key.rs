//! `auditrail send` of an event whose routing key is one a target lists, but in another
//! Unicode normalization form (`cafe` + U+0301 against `caf` + U+00E9: they look alike)
//! or case, is not delivered (routing keys are compared code point for code point, as
//! sent) and says so; the error now names the key the target lists and how the two
//! differ, where it said only "matched no target's filter", with the differing code
//! points (the two spellings print alike through `{:?}`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

#[test]
fn the_error_names_the_listed_key_the_events_key_reads_like() {
    let node = common::Node::with_file_target("routing_keys = [\"caf\u{e9}\"]");
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--topic",
            "generic",
            "--msg-type",
            "login",
            "--routing-key",
            "cafe\u{301}",
        ],
        "",
    );
    let (_, stderr) = common::text(&out);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "a target's routing_keys list \"caf\u{e9}\", the same text in another Unicode \
             normalization form (NFC/NFD, UAX #15): U+00E9 listed where U+0065 U+0301 was \
             sent"
        ),
        "{stderr}"
    );
}
