//! What the CLI prints on stderr shows each character once, and never a raw control
//! character. Errors quote the value at fault with `{:?}` (`invalid routingKey
//! "a\tb": character '\t'`); the CLI then escaped that text again as if it were a
//! value, and the user read `"a\\tb"`, `'\\t'` and ``no `/`, `\\`, NUL``. A value
//! quoted raw (an unknown key of a stdin line, from serde) must still reach the
//! terminal escaped: an ESC in it would act on the terminal (here: set its title).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

#[test]
fn a_routing_key_with_a_tab_is_shown_once_escaped() {
    let node = common::Node::with_file_target("");
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
            "a\tb",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(r#"invalid routingKey "a\tb": character '\t' is not allowed (no `/`, `\`, NUL or control characters)"#),
        "{stderr}"
    );
    assert!(!stderr.contains(r"\\"), "a backslash shown twice: {stderr}");
    assert!(!stderr.contains('\t'), "a raw TAB: {stderr:?}");
}

#[test]
fn a_control_character_of_a_stdin_line_reaches_stderr_escaped() {
    let node = common::Node::with_file_target("");
    // JSON escapes in the line; the key, once parsed, holds a raw ESC and BEL.
    let line = r#"{"topic":"generic","message":{"msgType":"x"},"a\u001b]0;owned\u0007b":1}"#;
    let out = node.run(
        &["send", "--config", "node.toml", "--stdin"],
        &format!("{line}\n"),
    );
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(r"unknown field `a\u{1b}]0;owned\u{7}b`"),
        "{stderr:?}"
    );
    let raw: Vec<char> = stderr
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(
        raw.is_empty(),
        "raw control characters {raw:?} in {stderr:?}"
    );
}
