//! Configs written with the reference product's spellings: where auditrail has the same
//! key, the spelling is an alias and works (a server config with `dataDir`,
//! `partitioningPeriod = "DAY"`, `folderByTopic`, `routingKeys`, `requiredAuthKey`; a node
//! whose eventserver target has `serverUrl`, `authKey`, `routingKeyMode = "STATIC"`,
//! `routingKey`, and whose file target has `loggerPrefix`); where it has not, the
//! program refuses to start with an error that names auditrail's key and the docs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;
use crate::serve_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serve_support::*;

const SERVER: &str = "dataDir = \"ref-data\"\n\
                      requireAuthenticationForStats = false\n\
                      [[keys]]\nid = \"svc-a\"\nsecret = \"secret-of-svc-a\"\n\
                      [[destinations]]\ntype = \"store\"\npath = \"store\"\n\
                      partitioningPeriod = \"DAY\"\nfolderByTopic = false\n\
                      routingKeys = [\"svc-a\"]\nrequiredAuthKey = \"svc-a\"\n";

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn aliases_of_the_reference_spellings_work_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), SERVER).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let node = common::Node::with_file_target("loggerPrefix = \"dku.audit\"\n");
    let node_config = std::fs::read_to_string(node.path().join("node.toml")).unwrap();
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "{node_config}\n[[targets]]\ntype = \"eventserver\"\n\
             serverUrl = \"http://{}\"\nauthKey = \"secret-of-svc-a\"\n\
             routingKeyMode = \"STATIC\"\nroutingKey = \"svc-a\"\nspool = false\n",
            server.addr
        ),
    )
    .unwrap();
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--topic",
            "generic",
            "--msg-type",
            "login",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(server.terminate(), 0);

    // The file target's logger name took `loggerPrefix`.
    let lines = node.audit_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["logger"], "dku.audit.generic");

    // The server stored under `dataDir`, in the key's destination (`requiredAuthKey`,
    // `routingKeys` matched the routing key that `routingKeyMode = "STATIC"` forced),
    // without a topic folder and with day partitions: svc-a/YYYY/mm/dd/<segment>.
    let store = dir.path().join("ref-data/store");
    assert_eq!(stored_ids(&store).len(), 1);
    let segments: Vec<PathBuf> = files_under(&store)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl") && p.parent() != Some(&store))
        .collect();
    assert_eq!(segments.len(), 1, "{segments:?}");
    let parts: Vec<String> = segments[0]
        .strip_prefix(&store)
        .unwrap()
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    assert_eq!(parts.len(), 5, "{parts:?}");
    assert_eq!(parts[0], "svc-a", "{parts:?}");
    assert_eq!(
        parts[1..4].iter().map(String::len).collect::<Vec<_>>(),
        [4, 2, 2],
        "{parts:?}"
    );
}

fn refused(command: &str, file: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(file), text).unwrap();
    let args: Vec<&str> = match command {
        "serve" => vec!["serve", "--listen", "127.0.0.1:0", "--config", file],
        _ => vec![
            "send",
            "--config",
            file,
            "--topic",
            "generic",
            "--msg-type",
            "x",
        ],
    };
    // `timeout`: a server that starts anyway is a failure, not a hang.
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
        "{file} was not refused: {stderr}"
    );
    stderr
}

#[test]
fn spellings_without_an_identical_key_are_refused_naming_ours() {
    let store = "[[destinations]]\ntype = \"store\"\npath = \"s\"\n";
    for (command, file, text, theirs, ours) in [
        ("serve", "s.toml", format!("listenPort = 9980\n{store}"), "listenPort", "listen"),
        (
            "serve",
            "s.toml",
            format!("[[keys]]\nid = \"a\"\nauthKey = \"k\"\n{store}"),
            "authKey",
            "secret",
        ),
        (
            "serve",
            "s.toml",
            format!("{store}flushEveryBytes = 1000\n"),
            "flushEveryBytes",
            "flush",
        ),
        (
            "serve",
            "s.toml",
            format!("{store}topicsFiltering = \"ALL\"\n"),
            "topicsFiltering",
            "topics",
        ),
        (
            "send",
            "n.toml",
            "node = \"n\"\n[[targets]]\ntype = \"file\"\ndir = \"a\"\nroutingKeysFiltering = \"SELECTED\"\n"
                .to_owned(),
            "routingKeysFiltering",
            "routing_keys",
        ),
    ] {
        let err = refused(command, file, &text);
        assert!(
            err.contains(&format!("{file}: "))
                && err.contains(&format!(
                    "unknown key \"{theirs}\": auditrail calls this \"{ours}\""
                ))
                && err.contains("docs/configuration.md#migrating-from-the-reference-product"),
            "{theirs}: {err}"
        );
    }
}

#[test]
fn a_reference_spelling_and_ours_of_one_key_are_refused_together() {
    let err = refused(
        "send",
        "n.toml",
        "node = \"n\"\n[[targets]]\ntype = \"file\"\ndir = \"a\"\n\
         loggerPrefix = \"x\"\nlogger_prefix = \"y\"\n",
    );
    assert!(
        err.contains("\"loggerPrefix\" and \"logger_prefix\" are the same key"),
        "{err}"
    );
}
