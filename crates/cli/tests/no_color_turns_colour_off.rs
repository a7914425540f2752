//! On a terminal, log lines are coloured unless `NO_COLOR` is set to a non-empty value
//! (https://no-color.org). The server runs under `script` (util-linux), which gives it
//! a pseudo-terminal, so the colour decision is the one a user at a terminal gets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

/// What `auditrail serve` printed on a pseudo-terminal in its first second or so.
fn on_a_terminal(no_color: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_auditrail");
    let transcript = dir.path().join("transcript");
    let mut cmd = Command::new("timeout");
    cmd.args(["-s", "TERM", "3", "script", "-qfec"])
        .arg(format!("{bin} serve --listen 127.0.0.1:0 --data-dir data"))
        .arg(&transcript)
        .current_dir(dir.path())
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG");
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    let _ = cmd.output().expect("`script` and `timeout` are installed");
    let text = std::fs::read_to_string(&transcript).unwrap();
    assert!(text.contains("store opened"), "no log line: {text}");
    text
}

#[test]
fn no_color_turns_the_colours_of_a_terminal_off() {
    assert!(
        on_a_terminal(None).contains("\u{1b}["),
        "coloured on a terminal"
    );
    assert!(!on_a_terminal(Some("1")).contains("\u{1b}["), "NO_COLOR=1");
    // An empty NO_COLOR does not count (no-color.org).
    assert!(on_a_terminal(Some("")).contains("\u{1b}["), "NO_COLOR=");
}
