//! Staging the next key (`auditrail keys rotate --prepare`) while the server runs
//! writes only `signing.key.next`: the running server goes on answering, signed by its
//! key, and restarted without `keys rotate` it still signs with that key (it never reads
//! the staged one, and a staged key is not an interrupted rotation to finish at start):
//! a node pinned to the current key alone delivers throughout.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_testkit::server::ServerProcess;
use common::{keys, staged_key, text, Node};

#[test]
fn the_server_signs_with_its_key_before_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = ServerProcess::start(&data, None);
    let (code, old, err) = keys(&data, &["export"]);
    assert_eq!(code, 0, "{err}");
    let old = old.trim().to_owned();
    let secret = std::fs::read(data.join("signing.key")).unwrap();
    let node = Node::with_eventserver_target(
        "node-current",
        &server.url,
        &format!("server_keys = [\"{old}\"]\n"),
    );
    let delivered = |when: &str| {
        let out = node.send_login("20");
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{when}: {stdout}\n{stderr}");
    };
    delivered("before staging");

    let (code, out, err) = keys(&data, &["rotate", "--prepare"]);
    assert_eq!(code, 0, "{out}{err}");
    let staged = staged_key(&out);
    delivered("the running server, a key staged");

    server.restart();
    delivered("restarted without keys rotate");
    assert!(
        !server.log().contains(&staged),
        "the server spoke of the staged key: {}",
        server.log()
    );
    assert_eq!(std::fs::read(data.join("signing.key")).unwrap(), secret);
    assert_eq!(
        std::fs::read_to_string(data.join("signing.pub"))
            .unwrap()
            .trim(),
        old
    );
    assert!(
        data.join("signing.key.next").exists(),
        "the staged key is kept"
    );
    assert_eq!(server.stored().len(), 3);
}
