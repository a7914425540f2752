//! The server started with a key file whose key the store's log retired says what
//! `keys rotate` says of it: a key file (and `signing.pub`) put back from before the
//! rotation is a retired key, and the one to put back is the store's current key,
//! named; not "run `keys rotate` again", which refuses that key file. Only when the
//! rotation is still to finish (the new key waiting in `signing.key.next`) does the
//! start say to run `keys rotate` again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::run;

#[test]
fn a_retired_key_is_named_and_the_current_key_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let data = dir.join("data");
    retention_support::write_config(dir, "");
    let server = serve_support::start(dir, &["--config", "server.toml"]);
    assert_eq!(tamper_support::stop(server), 0);
    let backup_key = std::fs::read(data.join("signing.key")).unwrap();
    let backup_pub = std::fs::read(data.join("signing.pub")).unwrap();
    let k0 = String::from_utf8(backup_pub.clone())
        .unwrap()
        .trim()
        .to_owned();
    let (code, out) = run(dir, &["keys", "rotate", "--config", "server.toml"]);
    assert_eq!(code, 0, "{out}");
    let k1 = std::fs::read_to_string(data.join("signing.pub"))
        .unwrap()
        .trim()
        .to_owned();
    std::fs::write(data.join("signing.key"), &backup_key).unwrap();
    std::fs::write(data.join("signing.pub"), &backup_pub).unwrap();

    let Err((code, err)) = tamper_support::try_start(dir) else {
        panic!("the server started with a retired key");
    };
    assert_ne!(code, 0, "{err}");
    for said in [
        // The key file as the config names it (relative to the server's directory).
        "data/signing.key holds a retired key".to_owned(),
        format!("no store takes a line signed by {k0} any more"),
        format!("Put back the key file holding {k1}, the store's current key"),
    ] {
        assert!(err.contains(&said), "{said:?} not in: {err}");
    }
    assert!(
        !err.contains("keys rotate` again"),
        "sends the operator to `keys rotate`, which refuses this key file: {err}"
    );
}

#[test]
fn a_rotation_still_to_finish_is_named_with_the_command_that_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let data = dir.join("data");
    retention_support::write_config(dir, "");
    let server = serve_support::start(dir, &["--config", "server.toml"]);
    assert_eq!(tamper_support::stop(server), 0);
    // Stopped after the store's handover: its marks cannot be rewritten.
    let obstacle = data.join("high-water.jsonl.tmp");
    std::fs::create_dir(&obstacle).unwrap();
    let (code, out) = run(dir, &["keys", "rotate", "--config", "server.toml"]);
    assert_ne!(code, 0, "{out}");
    std::fs::remove_dir(&obstacle).unwrap();

    let Err((code, err)) = tamper_support::try_start(dir) else {
        panic!("the server started in the middle of a rotation");
    };
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(
            "an interrupted `auditrail keys rotate` left the store's current key ed25519:"
        ) && err.contains("in data/signing.key.next: run `auditrail keys rotate` again"),
        "{err}"
    );
    assert!(!err.contains("retired key"), "{err}");
}
