//! `auditrail keys rotate` says, besides "give the new key to verifiers", that nodes
//! pinning the server (`server_keys` of their `eventserver` target) refuse its answers
//! until they are given the new key. Before, it named only verifiers: an operator
//! following its output stopped every pinned node's delivery (their events waiting in
//! their spools) without a word about why or what to do. Without a staged key it also
//! says how to stage the next one ahead (`keys rotate --prepare`), which spares the
//! nodes the stop next time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{run, write_config};
use serve_support::start;

#[test]
fn the_rotation_names_server_keys_and_the_new_key() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let server = start(dir.path(), &["--config", "server.toml"]);
    assert_eq!(tamper_support::stop(server), 0);

    let (code, out) = run(dir.path(), &["keys", "rotate", "--config", "server.toml"]);
    assert_eq!(code, 0, "{out}");
    let new_key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let new_key = new_key.trim();
    assert!(
        out.contains(&format!(
            "nodes whose `eventserver` target pins this server (`server_keys`) refuse its \
             answers until given the new key: add {new_key} beside the old one"
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "No key was staged for this rotation: next time, stage the next key first with \
             `auditrail keys rotate --prepare --config server.toml`"
        ),
        "{out}"
    );
}
