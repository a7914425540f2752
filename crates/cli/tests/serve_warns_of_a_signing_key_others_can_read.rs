//! The signing key signs every checkpoint and receipt: whoever reads it can sign as the
//! server. A key file others may read (`chmod 644`, a copy restored without its mode)
//! was taken without a word; the server now warns at start, naming the file and its
//! mode. The key it generates itself (mode 0600) gets no warning.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;

use crate::serve_support;

use serve_support::*;

const WARNING: &str = "the signing key file can be read or written by others than its owner";

#[test]
fn a_key_file_others_can_read_is_warned_about_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    assert_eq!(server.terminate(), 0);
    let server = start(dir.path(), &["--data-dir", "data"]);
    assert!(!server.stderr().contains(WARNING), "{}", server.stderr());
    assert_eq!(server.terminate(), 0);

    let key = dir.path().join("data/signing.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    wait_for_log(&server, WARNING);
    let log = server.stderr();
    assert!(log.contains("signing.key") && log.contains("0644"), "{log}");
    assert_eq!(server.terminate(), 0);
}
