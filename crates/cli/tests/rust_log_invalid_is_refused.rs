//! A `RUST_LOG` that `tracing`'s filter cannot parse is an error naming the variable and
//! its value, for every command (the server does not start): it used to be dropped
//! silently for the default filter, so the logs asked for never came and nothing said
//! why. A valid `RUST_LOG` (bare words are targets, as in `env_logger`) still works.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output, Stdio};

fn run(args: &[&str], rust_log: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(args)
        .current_dir(dir.path())
        .env("RUST_LOG", rust_log)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn an_unparsable_rust_log_is_refused_naming_it() {
    for args in [
        &["targets"][..],
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"][..],
    ] {
        let out = run(args, "warn,auditrail=verbose");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("RUST_LOG \"warn,auditrail=verbose\" is no valid log filter"),
            "{args:?}: {stderr}"
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("listening on"),
            "{args:?} started anyway"
        );
    }
}

#[test]
fn a_valid_rust_log_is_used() {
    for value in ["warn,auditrail=debug", "mycrate", ""] {
        let out = run(&["targets"], value);
        assert!(
            out.status.success(),
            "RUST_LOG={value:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
