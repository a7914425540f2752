//! A `<store>/store-id` that is there but cannot be read (mode 000, as a mis-restored
//! backup leaves it) is an error naming the file and the OS error, in `serve`,
//! `verify` and `store accept`. It used to be taken for a missing id: `verify`
//! reported `missing-store-id`, the server said "store-id is missing", and `store
//! accept` replaced the file and signed "store-id was missing and was restored" into
//! the checkpoint log, a false statement in the store's evidence.
//!
//! The commands run as a user the file's mode stops: as root (whom no mode stops) the
//! data is given to uid 65534 and the commands run as that user.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;
mod tamper_support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use tamper_support::{fifty_records, strip_ansi};

const NOBODY: u32 = 65534;

fn as_root() -> bool {
    rustix::process::geteuid().as_raw() == 0
}

/// `auditrail ARGS` in `dir`, as the user the file modes stop: exit code and output.
fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auditrail"));
    cmd.args(args).current_dir(dir);
    if as_root() {
        cmd.uid(NOBODY).gid(NOBODY);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        strip_ansi(
            &(String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr)),
        ),
    )
}

/// Gives `path` and everything below it to uid 65534 (root only).
fn give_away(path: &Path) {
    let nobody = Some(rustix::fs::Uid::from_raw(NOBODY));
    let group = Some(rustix::fs::Gid::from_raw(NOBODY));
    rustix::fs::chown(path, nobody, group).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            give_away(&entry.unwrap().path());
        }
    }
}

#[test]
fn an_unreadable_store_id_is_named_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    if as_root() {
        give_away(dir.path());
    }
    let id_file = store.join("store-id");
    let id = std::fs::read(&id_file).unwrap();
    let log = std::fs::read(store.join("checkpoints.jsonl")).unwrap();
    std::fs::set_permissions(&id_file, std::fs::Permissions::from_mode(0o000)).unwrap();
    // The file, then its OS error (the path is as the command was given it).
    let named = |out: &str| out.contains("store/store-id: Permission denied");

    let (code, out) = run(
        dir.path(),
        &["verify", "data", "--public-key", &key, "--json"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("missing-store-id"), "{out}");
    assert!(
        out.contains("unreadable") && out.contains("Permission denied"),
        "{out}"
    );

    let (code, out) = run(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            "server.toml",
            "--data-dir",
            "data",
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(named(&out) && !out.contains("is missing"), "{out}");

    let (code, out) = run(
        dir.path(),
        &["store", "accept", "--data-dir", "data", "--reason", "test"],
    );
    assert_ne!(code, 0, "{out}");
    assert!(named(&out) && !out.contains("was missing"), "{out}");

    // Nothing was replaced or signed.
    std::fs::set_permissions(&id_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(std::fs::read(&id_file).unwrap(), id);
    assert_eq!(std::fs::read(store.join("checkpoints.jsonl")).unwrap(), log);
}
