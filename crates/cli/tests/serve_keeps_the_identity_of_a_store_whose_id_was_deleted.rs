//! `<store>/store-id` deleted: `verify` reports it (`missing-store-id`, naming the id
//! the checkpoint log carries); the server does not mint a new identity for a store
//! that has records and checkpoints: it refuses, says what it found and how to
//! proceed; `auditrail store accept` writes the old id back (recorded, signed), and
//! the server starts again on the same identity. (Case `tamper-03-store-id-deleted`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use tamper_support::*;

#[test]
fn a_deleted_store_id_is_reported_refused_and_restored_by_accept() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    let id_file = store.join("store-id");
    let old = std::fs::read_to_string(&id_file)
        .unwrap()
        .trim()
        .to_string();
    std::fs::remove_file(&id_file).unwrap();

    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 1, "{report:#}");
    let problems = report["stores"][0]["problems"].as_array().unwrap();
    let missing = problems
        .iter()
        .find(|p| p["kind"] == "missing-store-id")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert!(
        missing["message"].as_str().unwrap().contains(&old),
        "{missing}"
    );

    let (code, log) = match try_start(dir.path()) {
        Ok(server) => {
            server.terminate();
            panic!("the server started without the store's id");
        }
        Err(e) => e,
    };
    assert_ne!(code, 0);
    assert!(
        log.contains("store-id is missing") && log.contains(&old),
        "{log}"
    );
    assert!(log.contains("auditrail store accept"), "{log}");
    assert!(!id_file.exists(), "no new identity was written");

    let (code, out) = accept(dir.path(), "store-id deleted by a cleanup script");
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read_to_string(&id_file).unwrap().trim(), old);
    let server = try_start(dir.path()).unwrap_or_else(|(c, l)| panic!("exit {c}: {l}"));
    assert_eq!(stop(server), 0);
    assert_eq!(std::fs::read_to_string(&id_file).unwrap().trim(), old);
    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 0, "{report:#}");
}
