//! `auditrail send` with a target that cannot be set up (a missing `client_cert`) exits
//! 1 and emits nothing; it did not start a run, so the next send with a correct config
//! numbers its first event 1, announces no abandoned numbers and does not warn of a
//! previous run that "did not shut down cleanly".

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;

use common::Node;

#[test]
fn the_run_after_a_refused_setup_starts_at_one_without_abandoned_numbers() {
    let node = Node::with_file_target("");
    let good = std::fs::read_to_string(node.path().join("node.toml")).unwrap();
    let bad = format!(
        "{good}\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\n\
         url = \"https://127.0.0.1:9\"\nclient_cert = \"missing.crt\"\n\
         client_key = \"missing.key\"\n"
    );
    std::fs::write(node.path().join("bad.toml"), bad).unwrap();
    let send = ["send", "--topic", "generic", "--msg-type", "login"];

    let refused = node.run(&[&send[..], &["--config", "bad.toml"]].concat(), "");
    let (_, stderr) = common::text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("missing.crt"), "{stderr}");
    assert!(node.audit_lines().is_empty(), "nothing was emitted");

    let out = node.run(&[&send[..], &["--config", "node.toml"]].concat(), "");
    let (_, stderr) = common::text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("did not shut down cleanly"), "{stderr}");
    let lines = node.audit_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["seq"], 1, "{}", lines[0]);
    assert!(lines[0].get("abandonedSeqs").is_none(), "{}", lines[0]);
}
