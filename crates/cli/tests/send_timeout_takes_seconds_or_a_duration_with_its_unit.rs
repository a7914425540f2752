//! `send --timeout` took whole seconds only: `--timeout 30s`, the way the configs write
//! a duration (`retention = "30d"`), was refused with clap's bare "invalid digit found
//! in string". It now takes either (`30`, `30s`, `2m`), and a value that is neither
//! says which forms it takes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

#[test]
fn a_timeout_with_its_unit_is_taken_and_a_wrong_one_names_the_forms() {
    let node = common::Node::with_file_target("");
    for timeout in ["5", "5s", "1m"] {
        let out = node.send_login(timeout);
        let (stdout, stderr) = common::text(&out);
        assert_eq!(out.status.code(), Some(0), "{timeout}: {stdout}{stderr}");
    }
    let out = node.send_login("soon");
    let (_, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("'soon'") && stderr.contains("30s, 2m, 1h"),
        "{stderr}"
    );
}
