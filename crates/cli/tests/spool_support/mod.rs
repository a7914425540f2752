//! Set-up shared by the tests of a node's spool through the `auditrail` binary: a
//! node whose eventserver target's server is not up yet, ten events spooled by a
//! `send` while it is down, the spool's segment file, and one more `send`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Output;

use crate::common;
use auditrail_testkit::port::Port;

/// A node `name` (config `node.toml`, run folder `run`) with one eventserver target
/// `central` sending to 127.0.0.1:`port` (held by the test: refused until a server
/// takes it, see `auditrail_testkit::port`).
pub(crate) fn spooling_node(name: &str, port: &Port) -> common::Node {
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"{name}\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"http://127.0.0.1:{port}\"\nshutdown_drain_ms = 300\n"
        ),
    )
    .unwrap();
    node
}

/// Sends `user1` .. `user10` while the server is down: `send` exits 3 (spooled).
pub(crate) fn spool_ten(node: &common::Node) -> Output {
    let ten: String = (1..=10)
        .map(|i| {
            format!("{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"user{i}\"}}}}\n")
        })
        .collect();
    let out = node.run(
        &["send", "--config", "node.toml", "--stdin", "--timeout", "1"],
        &ten,
    );
    assert_eq!(out.status.code(), Some(3), "{:?}", common::text(&out));
    out
}

/// The segment file of target `central`'s spool, and its id.
pub(crate) fn segment(node: &common::Node) -> (PathBuf, u64) {
    let spool = node.path().join("run/spool/central");
    let seg: PathBuf = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .expect("a spool segment");
    let id: u64 = seg.file_stem().unwrap().to_str().unwrap().parse().unwrap();
    (seg, id)
}

/// `auditrail send` of one `login` event of `user`.
pub(crate) fn send_one(node: &common::Node, user: &str) -> Output {
    node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--topic",
            "generic",
            "--msg-type",
            "login",
            "--user",
            user,
        ],
        "",
    )
}
