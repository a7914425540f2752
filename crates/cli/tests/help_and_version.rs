//! Every subcommand has `--help`, and the binary has `--version`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::process::Command;

fn auditrail(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn version_names_the_crate_version() {
    let (ok, stdout) = auditrail(&["--version"]);
    assert!(ok);
    assert_eq!(
        stdout.trim(),
        format!("auditrail {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn every_subcommand_has_help() {
    let (ok, top) = auditrail(&["--help"]);
    assert!(ok, "{top}");
    // The subcommands listed by the top-level help, each with its own help page.
    let commands: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| c != "help")
        .collect();
    for expected in ["targets", "send", "serve", "query", "verify", "keys"] {
        assert!(
            commands.iter().any(|c| c == expected),
            "{expected} missing from:\n{top}"
        );
    }
    for command in &commands {
        let (ok, help) = auditrail(&[command, "--help"]);
        assert!(ok && help.contains("Usage:"), "{command}: {help}");
    }
}
