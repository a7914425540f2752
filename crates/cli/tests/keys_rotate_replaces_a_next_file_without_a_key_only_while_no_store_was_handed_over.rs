//! A `signing.key.next` that holds no key (empty, or cut short: left by an older
//! version whose write of the new secret failed on a full disk or was cut by a crash).
//! While every store's checkpoint log still ends with the key file's key, nothing was
//! ever signed over to what it was to hold: `keys rotate` replaces it with a new key,
//! saying so, and rotates. Once a store's log hands signing over past the key file's
//! key, that file held the secret the rotation needs: the command refuses, naming the
//! store and the key, and leaves the file and everything else as they are.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use std::path::Path;

use retention_support::{post_day, run, write_config};
use serve_support::start;

/// A stopped server's files in `dir`: config, data dir, a store with checkpoints.
fn used_server(dir: &Path) {
    write_config(dir, "");
    let server = start(dir, &["--config", "server.toml"]);
    post_day(&server, "2026-12-01", 5, 1);
    assert_eq!(tamper_support::stop(server), 0);
}

#[test]
fn an_empty_next_file_no_handover_names_is_replaced_and_the_key_rotated() {
    let dir = tempfile::tempdir().unwrap();
    used_server(dir.path());
    let data = dir.path().join("data");
    let old_public = std::fs::read_to_string(data.join("signing.pub")).unwrap();
    let next = data.join("signing.key.next");
    std::fs::write(&next, b"").unwrap();

    let (code, out) = run(dir.path(), &["keys", "rotate", "--config", "server.toml"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("{} held no key", next.display()))
            && out.contains(&format!(
                "no store hands signing over past {}",
                old_public.trim()
            ))
            && out.contains("it was replaced by a new key"),
        "{out}"
    );
    assert!(out.contains("signing key rotated"), "{out}");
    assert!(!next.exists());
    let new_public = std::fs::read_to_string(data.join("signing.pub")).unwrap();
    assert_ne!(new_public, old_public);
    assert!(
        out.contains(&format!("{} -> {}", old_public.trim(), new_public.trim())),
        "{out}"
    );
}

#[test]
fn a_next_file_without_a_key_that_a_handover_names_is_kept_and_the_rotation_refused() {
    let dir = tempfile::tempdir().unwrap();
    used_server(dir.path());
    let data = dir.path().join("data");
    let old_secret = std::fs::read(data.join("signing.key")).unwrap();
    let old_public = std::fs::read(data.join("signing.pub")).unwrap();
    let (code, out) = run(dir.path(), &["keys", "rotate", "--config", "server.toml"]);
    assert_eq!(code, 0, "{out}");
    let handed_to = std::fs::read_to_string(data.join("signing.pub")).unwrap();
    // The files of a rotation interrupted after every store's handover, its `.next`
    // secret cut short: the old pair still in place.
    std::fs::write(data.join("signing.key"), &old_secret).unwrap();
    std::fs::write(data.join("signing.pub"), &old_public).unwrap();
    let next = data.join("signing.key.next");
    let cut = &old_secret[..30];
    std::fs::write(&next, cut).unwrap();
    let log = std::fs::read(data.join("store/checkpoints.jsonl")).unwrap();

    let (code, out) = run(dir.path(), &["keys", "rotate", "--config", "server.toml"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("keys rotate refused, nothing changed")
            && out.contains(&format!("{} holds no key", next.display()))
            && out.contains(&format!(
                "store {} hands signing over to {}",
                data.join("store").display(),
                handed_to.trim()
            ))
            && out.contains("Put that secret back into"),
        "{out}"
    );
    assert_eq!(std::fs::read(&next).unwrap(), cut, "the file is kept");
    assert_eq!(std::fs::read(data.join("signing.key")).unwrap(), old_secret);
    assert_eq!(std::fs::read(data.join("signing.pub")).unwrap(), old_public);
    assert_eq!(
        std::fs::read(data.join("store/checkpoints.jsonl")).unwrap(),
        log,
        "no second handover"
    );
}
