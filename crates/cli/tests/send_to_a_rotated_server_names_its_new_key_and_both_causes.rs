//! A node pinned to the server's key (`server_keys`), sending to the same server after
//! `keys rotate` (no key staged), keeps its event and says which key the server now
//! signs with and both likely causes: the server's key was rotated (add it to
//! `server_keys`) or the url reaches another server. Before, its error line said only
//! that the url "does not answer like an auditrail event server" (check `url`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_testkit::server::ServerProcess;
use common::{keys, text, Node};

#[test]
fn the_refusal_names_the_new_key_rotation_and_url() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = ServerProcess::start(&data, None);
    let (code, old, err) = keys(&data, &["export"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(server.stop(), Some(0));
    let (code, out, err) = keys(&data, &["rotate"]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, new, _) = keys(&data, &["export"]);
    let new = new.trim();
    server.restart();

    let node = Node::with_eventserver_target(
        "node-pinned",
        &server.url,
        &format!("server_keys = [\"{}\"]\n", old.trim()),
    );
    let out = node.send_login("3");
    let (stdout, stderr) = text(&out);
    assert_ne!(out.status.code(), Some(0), "delivered: {stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "the target's url answers signed by key {new}, which is not one of `server_keys`"
        )) && stderr.contains("the event server's key was rotated")
            && stderr.contains("add it to `server_keys`")
            && stderr.contains("the url reaches another server"),
        "{stderr}"
    );
}
