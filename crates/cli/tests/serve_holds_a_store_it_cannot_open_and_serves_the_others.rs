//! A store the server cannot open at start (an hour folder, a segment file or its
//! checkpoint log at mode 000: a restore with the wrong owner) stopped the whole start
//! (`error: destination "a": store data/a: ...: Permission denied`), so the other
//! store's nodes met a refused connection. Now that store alone is held: its batches
//! are answered `503 store_held` naming why, `/readyz` stays `200` and lists it with the
//! OS error, the log says so at ERROR naming the file, and the other store takes its
//! events. Once the file can be read again, the next start takes the store's events
//! again. When no store can be opened, or with `refuse_start_on_damaged_store =
//! true`, the start is refused as for the other holds.
//!
//! The server runs as a user the file modes stop: as root (whom no mode stops) the
//! folder is given to uid 65534 and the server runs as that user (`tamper_support`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::serve_support::{post_events, request};
use crate::tamper_support::{give_to_unprivileged, stop, ten, try_start_unprivileged as try_start};

/// Two stores, `a` and `b`, each taking one routing key.
const CONFIG: &str = crate::tamper_support::TWO_KEYED_STORES;

/// The first segment file below the store's root.
fn a_segment(dir: &Path) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if let Some(found) = a_segment(&path) {
                return Some(found);
            }
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            return Some(path);
        }
    }
    None
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_store_with_an_unreadable_file_is_held_while_the_other_serves() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    give_to_unprivileged(dir.path());
    let server = try_start(dir.path()).unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    for (key, salt) in [("svc-a", 801), ("svc-b", 802)] {
        let (status, answer) = post_events(&server.addr, &ten(key, 1, salt), None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(stop(server), 0);
    let a = dir.path().join("data/a");
    let segment = a_segment(&a.join("generic")).unwrap();
    let hour = segment.parent().unwrap().to_owned();
    let cases = [
        ("hour folder", hour.clone(), 0o755),
        ("segment", segment, 0o644),
        ("checkpoint log", a.join("checkpoints.jsonl"), 0o644),
    ];
    let mut first = 11;
    for (what, path, mode) in &cases {
        set_mode(path, 0o000);
        let server = try_start(dir.path()).unwrap_or_else(|(code, log)| {
            panic!("{what}: one unreadable store stopped the whole server (exit {code}): {log}")
        });
        // The other store serves.
        let (status, answer) = post_events(&server.addr, &ten("svc-b", first, 802), None).unwrap();
        assert_eq!(status, 200, "{what}: {answer}");
        // The unreadable one is held, saying why.
        let (status, answer) = post_events(&server.addr, &ten("svc-a", first, 801), None).unwrap();
        assert_eq!(status, 503, "{what}: {answer}");
        assert_eq!(answer["error"], "store_held", "{what}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains("\"a\"")
                && message.contains("could not be opened")
                && message.contains("Permission denied"),
            "{what}: {message}"
        );
        let (status, ready) = request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
        let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
        assert_eq!(status, 200, "{what}: {ready}");
        assert_eq!(ready["held"][0]["destination"], "a", "{what}: {ready}");
        let said = ready["held"][0]["message"].as_str().unwrap();
        assert!(
            said.contains("cannot be opened") && said.contains("Permission denied"),
            "{what}: {ready}"
        );
        let log = server.stderr();
        assert!(
            log.lines().any(|l| l.contains("ERROR")
                && l.contains("store held")
                && l.contains("destination=a")
                && l.contains(&*path.file_name().unwrap().to_string_lossy())
                && l.contains("Permission denied")),
            "{what}: {log}"
        );
        assert_eq!(stop(server), 0);
        set_mode(path, *mode);
        first += 10;
    }

    // The strict switch refuses the start, as for the other holds.
    set_mode(&hour, 0o000);
    std::fs::write(
        dir.path().join("server.toml"),
        format!("refuse_start_on_damaged_store = true\n{CONFIG}"),
    )
    .unwrap();
    match try_start(dir.path()) {
        Ok(server) => {
            stop(server);
            panic!("refuse_start_on_damaged_store = true started");
        }
        Err((code, log)) => assert!(
            code != 0 && log.contains("destination \"a\"") && log.contains("Permission denied"),
            "{log}"
        ),
    }
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    // No store left to serve: refused, naming why.
    let b_log = dir.path().join("data/b/checkpoints.jsonl");
    set_mode(&b_log, 0o000);
    match try_start(dir.path()) {
        Ok(server) => {
            stop(server);
            panic!("a server none of whose stores can be opened started");
        }
        Err((code, log)) => assert!(code != 0 && log.contains("Permission denied"), "{log}"),
    }
    set_mode(&b_log, 0o644);
    set_mode(&hour, 0o755);

    // Readable again: the next start takes the store's events.
    let server = try_start(dir.path()).unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    let (status, answer) = post_events(&server.addr, &ten("svc-a", first, 801), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let (_, ready) = request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
    assert!(!ready.contains("held"), "{ready}");
    assert_eq!(stop(server), 0);
}
