//! `auditrail keys export` while a rotation is staged (`keys rotate --prepare`) still
//! prints only the current key on stdout (scripts read it), and says on stderr that a
//! next key is staged, which one, and that nodes pinning the server need both: an
//! operator pinning a node from `keys export` alone would otherwise give it a key that
//! stops at the rotation. Without a staged key, stderr stays empty.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{keys, stopped_server_with_a_staged_key};

#[test]
fn export_names_the_staged_key_on_stderr_and_prints_only_the_current_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = auditrail_testkit::server::ServerProcess::start(&data, None);
    assert_eq!(server.stop(), Some(0));
    let (code, current, err) = keys(&data, &["export"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("staged"), "no key is staged yet: {err}");

    let staged = stopped_server_with_a_staged_key(&data);
    let (code, out, err) = keys(&data, &["export"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, current, "stdout is the current key alone");
    assert!(
        err.contains("a next key is staged")
            && err.contains(&staged)
            && err.contains("server_keys")
            && err.contains("keys export --next"),
        "{err}"
    );
}
