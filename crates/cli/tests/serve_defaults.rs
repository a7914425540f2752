//! `auditrail serve` with no config: listens on loopback, stores under
//! ./auditrail-data/store, says where; refuses unauthenticated non-loopback addresses
//! and configs without destinations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::serve_support;

use std::process::Command;

use serve_support::*;

#[test]
fn no_arguments_store_under_the_current_folder_and_stop_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    // The store folder is printed right after the address.
    let where_stored = server
        .stdout
        .recv_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    assert!(where_stored.contains("auditrail-data"), "{where_stored}");
    let (status, body) =
        post_events(&server.addr, &event_line(&new_id(1, 1), "n1", 1), None).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 1);
    let (status, _) = request(&server.addr, "GET", "/healthz", &[], b"").unwrap();
    assert_eq!(status, 200);
    assert_eq!(server.terminate(), 0);
    let ids = stored_ids(&dir.path().join("auditrail-data/store"));
    assert_eq!(ids.len(), 1);
}

#[test]
fn unauthenticated_non_loopback_is_refused_without_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["serve", "--listen", "0.0.0.0:0"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--allow-unauthenticated"), "{err}");
}

#[test]
fn a_config_without_destinations_or_with_unknown_keys_is_refused_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    for (text, needle) in [
        ("listen = \"127.0.0.1:0\"\n", "no [[destinations]]"),
        (
            "listen = \"127.0.0.1:0\"\nmax_body_byte = 3\n[[destinations]]\ntype = \"store\"\npath = \"s\"\n",
            "max_body_byte",
        ),
        (
            "[[destinations]]\ntype = \"store\"\npath = \"s\"\nfolder_by_topik = true\n",
            "folder_by_topik",
        ),
    ] {
        std::fs::write(dir.path().join("server.toml"), text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
            .args(["serve", "--config", "server.toml"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("server.toml") && err.contains(needle), "{err}");
    }
}
