//! A bad `AUDITRAIL_` variable stops `auditrail serve` before it starts, with an error
//! that names the variable: a value of the wrong type, a value the config's own checks
//! refuse, a name that is no config key (the known ones are listed), a list of tables
//! (not settable from the environment), a value that is not UTF-8. The variables the
//! programs use for other things (`AUDITRAIL_LOG_FORMAT`...) are no config keys and no
//! error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::serve_support;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serve_support::*;

/// Runs `auditrail serve --listen 127.0.0.1:0 ARGS` with `env` added; its exit code
/// and stderr. A server that starts anyway (the variable ignored) is stopped after a
/// while and reported as `None`, so the test fails instead of hanging.
fn serve(dir: &Path, args: &[&str], env: &[(&OsStr, &OsStr)]) -> (Option<i32>, String) {
    let stderr = dir.join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (code, std::fs::read_to_string(&stderr).unwrap())
}

fn refused(dir: &Path, args: &[&str], name: &str, value: &str) -> String {
    let (code, stderr) = serve(dir, args, &[(OsStr::new(name), OsStr::new(value))]);
    assert!(
        code.is_some_and(|c| c != 0),
        "{name}={value}: the server did not refuse to start ({code:?}): {stderr}"
    );
    stderr
}

#[test]
fn a_value_of_the_wrong_type_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(dir.path(), &[], "AUDITRAIL_MAX_BODY_BYTES", "abc");
    assert!(
        err.contains(
            "environment AUDITRAIL_MAX_BODY_BYTES: invalid value \"abc\": expected an integer"
        ),
        "{err}"
    );
}

#[test]
fn a_value_the_config_checks_refuse_names_the_variable_not_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "max_body_bytes = 1000\n[[destinations]]\ntype = \"store\"\npath = \"s\"\n",
    )
    .unwrap();
    let err = refused(
        dir.path(),
        &["--config", "server.toml"],
        "AUDITRAIL_MAX_BODY_BYTES",
        "0",
    );
    assert!(
        err.contains(
            "environment AUDITRAIL_MAX_BODY_BYTES: invalid value \"0\": max_body_bytes: must be at least 1"
        ),
        "{err}"
    );
}

#[test]
fn an_unknown_name_is_refused_listing_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(dir.path(), &[], "AUDITRAIL_LISEN", "0.0.0.0:9980");
    assert!(
        err.contains("AUDITRAIL_LISEN: no server config key of that name"),
        "{err}"
    );
    assert!(
        err.contains("AUDITRAIL_LISTEN") && err.contains("AUDITRAIL_CHECKPOINTS__EVERY_RECORDS"),
        "{err}"
    );
}

#[test]
fn a_list_of_tables_is_not_settable() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(dir.path(), &[], "AUDITRAIL_DESTINATIONS", "store");
    assert!(
        err.contains("AUDITRAIL_DESTINATIONS: [[destinations]] is a list of tables"),
        "{err}"
    );
}

#[test]
fn a_value_that_is_not_utf8_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = serve(
        dir.path(),
        &[],
        &[(
            OsStr::new("AUDITRAIL_DATA_DIR"),
            OsStr::from_bytes(b"d\xff"),
        )],
    );
    assert!(code.is_some_and(|c| c != 0), "{code:?}: {err}");
    assert!(err.contains("AUDITRAIL_DATA_DIR: not valid UTF-8"), "{err}");
}

#[test]
fn variables_used_for_other_things_are_no_config_keys() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("AUDITRAIL_LOG_FORMAT", "text"),
        ("AUDITRAIL_STATS_KEY", "k"),
        ("AUDITRAIL_TEST_ANYTHING", "x"),
    ];
    let server = start_with_env(dir.path(), &["--listen", "127.0.0.1:0"], &env);
    assert_eq!(server.terminate(), 0);
}
