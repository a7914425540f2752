//! A staged rotation: `auditrail keys rotate --prepare`, run while the server runs,
//! prints the next key; a node whose `server_keys` lists the current key and that one
//! delivers before the switch and, after `keys rotate` and the server's restart, goes
//! on delivering: the rotated server signs with the key printed at prepare time. Before,
//! `keys rotate` made its new key at the moment of rotation, unknown beforehand, so
//! every pinned node refused the rotated server's answers until its config was changed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_testkit::server::ServerProcess;
use common::{keys, staged_key, text, Node};

#[test]
fn the_node_listing_the_staged_key_delivers_across_the_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = ServerProcess::start(&data, None);
    let (code, old, err) = keys(&data, &["export"]);
    assert_eq!(code, 0, "{err}");
    let old = old.trim().to_owned();

    let (code, out, err) = keys(&data, &["rotate", "--prepare"]);
    assert_eq!(code, 0, "{out}{err}");
    let staged = staged_key(&out);
    assert_ne!(staged, old);
    assert!(
        out.contains("auditrail keys rotate"),
        "says what to do next: {out}"
    );

    let node = Node::with_eventserver_target(
        "node-staged",
        &server.url,
        &format!("server_keys = [\"{old}\", \"{staged}\"]\n"),
    );
    let before = node.send_login("20");
    let (stdout, stderr) = text(&before);
    assert_eq!(before.status.code(), Some(0), "{stdout}\n{stderr}");

    assert_eq!(server.stop(), Some(0));
    let (code, out, err) = keys(&data, &["rotate"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("rotating to the staged key {staged}")),
        "{out}"
    );
    assert!(
        out.contains(&format!("{old} -> {staged}")),
        "rotated to the staged key: {out}"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("signing.pub"))
            .unwrap()
            .trim(),
        staged
    );
    assert!(!data.join("signing.key.next").exists());

    server.restart();
    let after = node.send_login("20");
    let (stdout, stderr) = text(&after);
    assert_eq!(
        after.status.code(),
        Some(0),
        "the rotated server's answer was refused: {stdout}\n{stderr}"
    );
    assert_eq!(server.stored().len(), 2, "both events stored, once each");
}
