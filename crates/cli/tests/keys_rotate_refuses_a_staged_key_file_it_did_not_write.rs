//! Someone who can write the data dir but cannot read `signing.key` (another user, a
//! group-writable folder) puts a `signing.key.next` holding a secret of their own where
//! `keys rotate --prepare` stages the next key. `keys rotate` switched to it ("rotating
//! to the staged key"), and each store's handover line, signed by the genuine key,
//! named their key: verifiers holding the old trusted key follow it, so whatever they
//! sign from then on passes. A staged key not written as `--prepare` writes it (the key
//! file's owner, mode 0600) is now refused by `keys rotate`, `keys rotate --prepare`
//! (which kept it as "already staged") and `keys export --next`, and nothing changes.
//! (Tryout script `tamper/03-planted-staged-key-taken-by-keys-rotate`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::tamper_support;

use tamper_support::*;

fn keys(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .arg("keys")
        .args(args)
        .args(["--data-dir", "data"])
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn a_planted_staged_key_is_never_switched_to() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    let log_before = std::fs::read(store.join("checkpoints.jsonl")).unwrap();
    let next = dir.path().join("data/signing.key.next");
    std::fs::write(&next, format!("ed25519-secret:{}\n", "11".repeat(32))).unwrap();
    std::fs::set_permissions(&next, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut planted = vec!["mode 0644"];
    // Run as root, the file can also be given to another user, mode 0600, as such an
    // attacker would leave it.
    if rustix::process::geteuid().is_root() {
        planted.push("uid 65534");
    }
    for how in planted {
        if how == "uid 65534" {
            std::fs::set_permissions(&next, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::os::unix::fs::chown(&next, Some(65534), None).unwrap();
        }
        for args in [
            &["rotate"][..],
            &["rotate", "--prepare"][..],
            &["export", "--next"][..],
        ] {
            let (code, out) = keys(dir.path(), args);
            assert_ne!(code, 0, "{how}: keys {args:?} took the planted key: {out}");
            assert!(
                out.contains("was not written by `keys rotate --prepare`")
                    && out.contains("nothing changed"),
                "{how}: keys {args:?}: {out}"
            );
            let why = if how == "uid 65534" {
                "it belongs to uid 65534"
            } else {
                "mode 0644"
            };
            assert!(out.contains(why), "{how}: {out}");
        }
        assert_eq!(
            std::fs::read_to_string(dir.path().join("data/signing.pub"))
                .unwrap()
                .trim(),
            key,
            "{how}"
        );
        assert_eq!(
            std::fs::read(store.join("checkpoints.jsonl")).unwrap(),
            log_before,
            "{how}: no handover line"
        );
    }
    // The way on the refusal names: discard it, stage a key of the server's own.
    let (code, out) = keys(dir.path(), &["rotate", "--discard-staged"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = keys(dir.path(), &["rotate", "--prepare"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = keys(dir.path(), &["rotate"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("rotating to the staged key"), "{out}");
}
