//! A `keys rotate` interrupted after it renamed the new secret key over the old one
//! but before it wrote `signing.pub` (the old secret is gone; the key file holds the
//! new key, `signing.pub` still the old one, and every store hands over from the one
//! to the other). `serve` refuses, naming the unfinished rotation and the command that
//! finishes it; running `keys rotate` again finishes it (writes `signing.pub`) instead
//! of rotating a second time to yet another key; then the server starts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use retention_support::{post_day, run, write_config};
use serve_support::start;

/// `auditrail serve` that must refuse to start: its exit code and stderr.
fn refused_serve(dir: &std::path::Path) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            "server.toml",
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            return (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started in the state of an unfinished rotation");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_rotation_interrupted_before_writing_the_public_key_is_finished_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let data = dir.path().join("data");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2026-11-30", 5, 1);
    assert_eq!(tamper_support::stop(server), 0);
    let old_public = std::fs::read_to_string(data.join("signing.pub")).unwrap();

    let (code, out) = run(dir.path(), &["keys", "rotate", "--config", "server.toml"]);
    assert_eq!(code, 0, "{out}");
    let secret = std::fs::read(data.join("signing.key")).unwrap();
    let new_public = std::fs::read_to_string(data.join("signing.pub")).unwrap();
    let log = std::fs::read(data.join("store/checkpoints.jsonl")).unwrap();
    // The files as the interruption left them: everything done but `signing.pub`.
    std::fs::write(data.join("signing.pub"), &old_public).unwrap();

    let (code, err) = refused_serve(dir.path());
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("interrupted `auditrail keys rotate` is not finished")
            && err.contains("Run `auditrail keys rotate` again")
            && err.contains(new_public.trim())
            && err.contains(old_public.trim()),
        "{err}"
    );

    let (code, out) = run(dir.path(), &["keys", "rotate", "--config", "server.toml"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("finishing an interrupted rotation"), "{out}");
    assert_eq!(
        std::fs::read(data.join("signing.key")).unwrap(),
        secret,
        "not rotated a second time: {out}"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("signing.pub")).unwrap(),
        new_public
    );
    assert_eq!(
        std::fs::read(data.join("store/checkpoints.jsonl")).unwrap(),
        log,
        "no second hand-over"
    );

    let server = start(dir.path(), &["--config", "server.toml"]);
    assert_eq!(tamper_support::stop(server), 0);
}
