//! `auditrail send --field KEY=VALUE`: a value that is JSON is kept as written (a
//! 30-digit integer and `1e400` stay numbers, spelled as given); a `--field` key that
//! `--user` or `--msg-type` already sets, or a key given twice, is an error and nothing
//! is sent (it used to replace the flag's value silently).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

fn send(node: &common::Node, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "send",
        "--config",
        "node.toml",
        "--topic",
        "generic",
        "--msg-type",
        "usage",
        "--user",
        "alice",
    ];
    args.extend_from_slice(extra);
    node.run(&args, "")
}

#[test]
fn json_values_are_kept_as_written_and_collisions_are_refused() {
    let node = common::Node::with_file_target("");
    let out = send(
        &node,
        &[
            "--field",
            "n=123456789012345678901234567890",
            "--field",
            "big=1e400",
            "--field",
            "ip=10.0.0.7",
        ],
    );
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let log = std::fs::read_to_string(node.path().join("audit/audit.log")).unwrap();
    assert!(
        log.contains(
            r#""message":{"msgType":"usage","authUser":"alice","n":123456789012345678901234567890,"big":1e400,"ip":"10.0.0.7"}"#
        ),
        "{log}"
    );

    for (extra, says) in [
        (["--field", "authUser=mallory"], "--user"),
        (["--field", "msgType=other"], "--msg-type"),
    ] {
        let out = send(&node, &extra);
        let (stdout, stderr) = common::text(&out);
        assert!(!out.status.success(), "{extra:?}: {stdout}");
        assert!(stderr.contains(says), "{extra:?}: {stderr}");
    }
    let out = send(&node, &["--field", "a=1", "--field", "a=2"]);
    assert!(!out.status.success());
    assert!(
        common::text(&out).1.contains("`a`"),
        "{:?}",
        common::text(&out)
    );
    let log = std::fs::read_to_string(node.path().join("audit/audit.log")).unwrap();
    assert_eq!(log.lines().count(), 1, "nothing more was sent: {log}");
}
