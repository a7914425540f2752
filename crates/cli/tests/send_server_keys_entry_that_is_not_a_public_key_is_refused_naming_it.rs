//! An `eventserver` target's `server_keys` lists the event server's public keys
//! (`ed25519:<64 hex>`, as `auditrail keys export` prints them). An entry that is not
//! one (a point of small order, such as all zeros, included) stops the start, naming
//! the setting and the entry's place in the list, before
//! anything is sent: a key that cannot be read would make every receipt refused and
//! every event wait in the spool. The server's secret key, pasted there by mistake, is
//! said to be one and never repeated.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_testkit::server::ServerProcess;

#[test]
fn the_start_fails_naming_server_keys_and_the_entry() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), None);
    let key = std::fs::read_to_string(data.path().join("signing.pub")).unwrap();
    let key = key.trim();
    let secret = format!("ed25519-secret:{}", "5e".repeat(32));
    for (entries, named, said) in [
        (
            format!("[\"{key}\", \"ed25519:{}\"]", "zz".repeat(32)),
            "`server_keys[1]`",
            "has 64 characters after `ed25519:` that are not 64 hex digits",
        ),
        (
            format!("[\"{}\"]", key.trim_start_matches("ed25519:")),
            "`server_keys[0]`",
            "does not start with `ed25519:`",
        ),
        // 32 zero bytes decode to a point of the curve (of order 4), which no key pair
        // has and under which no answer verifies.
        (
            format!("[\"{key}\", \"ed25519:{}\"]", "00".repeat(32)),
            "`server_keys[1]`",
            "is 64 hex digits that are no usable Ed25519 public key",
        ),
        (
            format!("[\"{key}\", \"{key}\", \"{secret}\"]"),
            "`server_keys[2]`",
            "is the event server's SECRET key",
        ),
    ] {
        let node = common::Node::with_eventserver_target(
            "node-keys",
            &server.url,
            &format!("server_keys = {entries}"),
        );
        let out = node.send_login("10");
        let (stdout, stderr) = common::text(&out);
        assert_eq!(out.status.code(), Some(1), "{entries}: {stdout}\n{stderr}");
        assert!(
            stderr.contains(named) && stderr.contains(said),
            "{entries}: {stderr}"
        );
        assert!(
            !stderr.contains("5e5e"),
            "the secret key is shown: {stderr}"
        );
        assert!(
            !node.path().join("run/spool/central").exists(),
            "{entries}: the target was started"
        );
    }
    assert!(server.stored().is_empty());
}
