//! A JSON config that starts with a UTF-8 byte order mark (Notepad and other Windows
//! tools write one) is read like the same file without it, as a TOML config with one
//! already was and as `send --stdin` and `POST /v1/events` skip one (RFC 8259 section
//! 8.1). It was refused with "invalid JSON: expected value at line 1 column 1", naming a
//! character no editor shows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

const BOM: &str = "\u{feff}";

#[test]
fn a_node_json_config_with_a_byte_order_mark_sends() {
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.json"),
        format!("{BOM}{{\"node\":\"bom-json\",\"run_dir\":\"run\",\"targets\":[{{\"type\":\"file\",\"dir\":\"audit\"}}]}}\r\n"),
    )
    .unwrap();
    let out = node.run(
        &[
            "send",
            "--config",
            "node.json",
            "--topic",
            "generic",
            "--msg-type",
            "login",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let lines = node.audit_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["node"], "bom-json");
}

#[test]
fn a_server_json_config_with_a_byte_order_mark_is_read() {
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("server.json"),
        format!("{BOM}{{\"data_dir\":\"data\",\"destinations\":[{{\"type\":\"store\",\"path\":\"store\"}}]}}\n"),
    )
    .unwrap();
    // `verify --config` reads the server config and nothing else: a store never
    // written is named as missing, after the config was read.
    let out = node
        .run_within(
            &["verify", "--config", "server.json"],
            Duration::from_secs(20),
        )
        .expect("verify ends");
    let (stdout, stderr) = common::text(&out);
    assert!(!stderr.contains("invalid JSON"), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("store") || stdout.contains("store"),
        "{stdout}\n{stderr}"
    );
}
