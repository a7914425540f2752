//! `AUDITRAIL_<KEY>` environment variables override the server config's keys where the
//! user meets them: `auditrail serve` listens and stores where `AUDITRAIL_LISTEN` and
//! `AUDITRAIL_DATA_DIR` say, over the file's `listen` and `data_dir`, and over the
//! embedded defaults when there is no file; the operator commands that read `--config`
//! (`verify`) see the same data dir; a command-line flag still wins over the variable.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::serve_support;

use std::path::Path;
use std::process::Command;

use serve_support::*;

const CONFIG: &str = "listen = \"127.0.0.1:0\"\ndata_dir = \"from-file\"\n\
                      [[destinations]]\ntype = \"store\"\npath = \"store\"\n";

/// Posts one event (200 expected) and stops the server cleanly.
fn store_one_and_stop(server: ServerProc) {
    let (status, body) =
        post_events(&server.addr, &event_line(&new_id(1, 7), "n1", 1), None).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(server.terminate(), 0);
}

fn verify(dir: &Path, env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", "--config", "server.toml"])
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn listen_and_data_dir_from_the_environment_win_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // The file names a port the test holds (a server binding it fails), the variable
    // port 0: the server starts, on another port, only if the variable wins. (Naming a
    // "free" port in the variable instead raced with every other socket of the machine.)
    let held = Port::new();
    std::fs::write(
        dir.path().join("server.toml"),
        CONFIG.replace("127.0.0.1:0", &held.addr().to_string()),
    )
    .unwrap();
    let env = [
        ("AUDITRAIL_LISTEN", "127.0.0.1:0"),
        ("AUDITRAIL_DATA_DIR", "from-env"),
    ];
    let server = start_with_env(dir.path(), &["--config", "server.toml"], &env);
    assert_ne!(
        server.addr,
        held.addr().to_string(),
        "the server listens where the variable says"
    );
    let log = server.stderr();
    store_one_and_stop(server);
    assert_eq!(stored_ids(&dir.path().join("from-env/store")).len(), 1);
    assert!(!dir.path().join("from-file").exists());
    // The start says which keys the environment set.
    assert!(
        log.contains("config key set by the environment") && log.contains("AUDITRAIL_DATA_DIR"),
        "{log}"
    );

    // `verify --config` reads the same data dir with the same variables; without them it
    // looks under the file's data dir, where nothing was stored.
    let out = verify(dir.path(), &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("store from-env/store") && stdout.contains(" 1 record ("),
        "{stdout}"
    );
    // (where nothing is: verify says so and fails)
    let out = verify(dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("from-file/store") && stderr.contains("does not exist"),
        "{stderr}"
    );
}

#[test]
fn without_a_config_file_the_environment_overrides_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("AUDITRAIL_LISTEN", "127.0.0.1:0"),
        ("AUDITRAIL_DATA_DIR", "env-data"),
    ];
    store_one_and_stop(start_with_env(dir.path(), &[], &env));
    assert_eq!(stored_ids(&dir.path().join("env-data/store")).len(), 1);
    assert!(!dir.path().join("auditrail-data").exists());
}

#[test]
fn a_command_line_flag_wins_over_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("AUDITRAIL_DATA_DIR", "env-data")];
    let args = ["--listen", "127.0.0.1:0", "--data-dir", "flag-data"];
    store_one_and_stop(start_with_env(dir.path(), &args, &env));
    assert_eq!(stored_ids(&dir.path().join("flag-data/store")).len(), 1);
    assert!(!dir.path().join("env-data").exists());
}
