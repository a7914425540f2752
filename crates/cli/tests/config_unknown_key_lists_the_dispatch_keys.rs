//! A misspelt key in a `[[targets]]` or `[[destinations]]` entry is refused with the list
//! of the keys that entry takes: the target type's own, and also `type`, `name` and the
//! dispatch keys (`topics`, `routing_keys`, queue and retry settings) that every entry
//! takes. Before, the list held only the type's own keys, so `topcs` got a list without
//! `topics`. `required_key` is listed for destinations only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::process::Command;

fn error_of(args: &[&str], file: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(file), text).unwrap();
    let out = Command::new("timeout")
        .arg("10")
        .arg(env!("CARGO_BIN_EXE_auditrail"))
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success() && out.status.code() != Some(124),
        "{stderr}"
    );
    stderr
}

fn listed(err: &str, key: &str) -> bool {
    let list = err
        .split_once("expected one of")
        .map(|(_, l)| l)
        .unwrap_or_default();
    list.contains(&format!("`{key}`"))
}

#[test]
fn a_node_target_lists_the_dispatch_keys_with_its_own() {
    let err = error_of(
        &[
            "send",
            "--config",
            "node.toml",
            "--topic",
            "generic",
            "--msg-type",
            "x",
        ],
        "node.toml",
        "node = \"n\"\n[[targets]]\ntype = \"eventserver\"\nurl = \"http://127.0.0.1:9\"\n\
         topcs = [\"generic\"]\n",
    );
    assert!(err.contains("unknown field `topcs`"), "{err}");
    for key in [
        "type",
        "name",
        "topics",
        "routing_keys",
        "queue_capacity",
        "url",
        "auth_key",
    ] {
        assert!(listed(&err, key), "`{key}` not listed: {err}");
    }
    assert!(!listed(&err, "required_key"), "{err}");
}

#[test]
fn a_server_destination_lists_the_dispatch_keys_and_required_key() {
    let err = error_of(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            "server.toml",
        ],
        "server.toml",
        "[[destinations]]\ntype = \"store\"\npath = \"s\"\nrouting_key = \"a\"\n",
    );
    assert!(err.contains("unknown field `routing_key`"), "{err}");
    for key in [
        "topics",
        "routing_keys",
        "required_key",
        "path",
        "partitioning",
    ] {
        assert!(listed(&err, key), "`{key}` not listed: {err}");
    }
}
