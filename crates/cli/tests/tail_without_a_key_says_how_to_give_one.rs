//! `auditrail tail` refused for want of a stats key says how this command sends one
//! (`--key`, `AUDITRAIL_STATS_KEY`), and its `--help` does not tie the key to
//! `require_auth_for_stats` alone: a server with `[[keys]]` asks a stats key for
//! `/v1/stream` whatever that setting says (docs/protocol.md, "Keys on the read
//! endpoints"). Before, the help said "when the server requires one
//! (`require_auth_for_stats`)", and the refusal only spoke of an `Authorization` header.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::process::Command;

use crate::serve_support::start;

#[test]
fn a_refusal_names_the_key_option_and_the_help_says_when_it_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\n[[keys]]\nid = \"node-a\"\nsecret = \"node-a-secret\"\n\
         [[stats_keys]]\nid = \"ops\"\nsecret = \"ops-secret\"\n\
         [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let url = format!("http://{}", server.addr);
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["tail", "--server", &url, "-n", "0"])
        .env_remove("AUDITRAIL_STATS_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("401"), "{stderr}");
    assert!(
        stderr.contains("with --key or AUDITRAIL_STATS_KEY"),
        "the refusal says how to give the key: {stderr}"
    );

    let help = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["tail", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("needed as soon as the server has `[[keys]]`"),
        "{help}"
    );
    assert_eq!(server.terminate(), 0);
}
