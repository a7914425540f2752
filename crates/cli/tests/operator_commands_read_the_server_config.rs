//! The operator commands read the data folder, the stores and the signing key from the
//! server's own config file (`--config server.toml`), the way `auditrail serve` does,
//! with a relative `data_dir` and a store outside the default folder name: `keys
//! export`, `verify`, `sql`, `query` and `store accept`. Before, only `serve` took the
//! config, and `keys export` looked for `auditrail-data` whatever the config said.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::path::Path;
use std::process::{Command, Output};

use serve_support::*;

const CONFIG: &str = "data_dir = \"data\"\n\
                      [[destinations]]\ntype = \"store\"\npath = \"audit-store\"\n\
                      [[destinations]]\ntype = \"store\"\npath = \"second-store\"\n\
                      topics = [\"no-such-topic\"]\n";

fn auditrail(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn keys_verify_sql_query_and_store_take_the_server_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let body: String = (0..30)
        .map(|i| event_line(&new_id(i, 71), "node-c", i + 1) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    let cwd = dir.path();

    let public = stdout(&auditrail(
        cwd,
        &["keys", "export", "--config", "server.toml"],
    ));
    let on_disk = std::fs::read_to_string(cwd.join("data/signing.pub")).unwrap();
    assert_eq!(public.trim(), on_disk.trim());

    let report: serde_json::Value = serde_json::from_str(&stdout(&auditrail(
        cwd,
        &["verify", "--config", "server.toml", "--json"],
    )))
    .unwrap();
    assert_eq!(report["ok"], true, "{report:#}");
    let stores = report["stores"].as_array().unwrap();
    assert_eq!(stores.len(), 2, "the two configured stores: {report:#}");
    assert_eq!(stores[0]["records"], 30, "{report:#}");

    let rows = stdout(&auditrail(
        cwd,
        &[
            "sql",
            "SELECT count(*) AS n FROM events",
            "--config",
            "server.toml",
            "--format",
            "csv",
        ],
    ));
    assert_eq!(rows, "n\n30\n");
    let usage = stdout(&auditrail(
        cwd,
        &["query", "node-usage", "--config", "server.toml"],
    ));
    assert!(usage.contains("node-c"), "{usage}");

    let accepted = stdout(&auditrail(
        cwd,
        &[
            "store",
            "accept",
            "--config",
            "server.toml",
            "--reason",
            "test of --config",
        ],
    ));
    assert!(accepted.contains("audit-store"), "{accepted}");
    assert!(accepted.contains("second-store"), "{accepted}");

    // A config that cannot be read is an error naming it.
    let out = auditrail(cwd, &["verify", "--config", "missing.toml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}
