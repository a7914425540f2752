//! A `<store>/store-id` that is there but cannot be read (mode 000, as a mis-restored
//! backup leaves it) is an error naming the file and the OS error, in `serve`,
//! `verify` and `store accept`. It used to be taken for a missing id: `verify`
//! reported `missing-store-id`, the server said "store-id is missing", and `store
//! accept` replaced the file and signed "store-id was missing and was restored" into
//! the checkpoint log, a false statement in the store's evidence.
//!
//! The commands run as a user the file's mode stops: as root (whom no mode stops) the
//! data is given to uid 65534 and the commands run as that user (`tamper_support`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use std::os::unix::fs::PermissionsExt;

use tamper_support::{fifty_records, give_to_unprivileged, run_unprivileged as run};

#[test]
fn an_unreadable_store_id_is_named_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    give_to_unprivileged(dir.path());
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
