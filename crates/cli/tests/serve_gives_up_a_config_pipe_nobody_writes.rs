//! `serve --config` naming a FIFO nobody writes (a secrets agent that is not serving, a
//! `mkfifo` gone wrong): the start waited on its open for ever, with no word, neither
//! listening nor saying why. A pipe is read on purpose at a start (`--config <(...)`),
//! so it is still waited on, but for at most 10 s: then the start fails naming the file
//! and the limit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crate::common;
use crate::tamper_support::make_fifo;

#[cfg(unix)]
#[test]
fn a_start_on_a_config_fifo_nobody_writes_fails_after_the_bounded_wait_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    make_fifo(&config);
    let args = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--config",
        "server.toml",
    ];
    // Without the fix: still waiting after 60 s.
    let out =
        common::run_within(dir.path(), &args, &[], Duration::from_secs(60)).unwrap_or_else(|out| {
            panic!(
                "`serve` still waited on the FIFO after 60 s: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "server.toml: cannot read: is a pipe that did not reach its end within 10 s \
             (0 bytes came)"
        ),
        "{stderr}"
    );
}
