//! A mistyped `log_level` (`"warning"` for `warn`) is refused wherever it is read, with
//! an error naming the key, the value and what is accepted: `tracing`'s filter would
//! take it as a target name and silently turn off every log line. From the config file
//! and from `AUDITRAIL_LOG_LEVEL` the server does not start; on SIGHUP it keeps the
//! running configuration (and its log level: the refusal itself is logged) and says
//! why. Levels and `target=level` directives are still accepted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serve_support::*;

const REST: &str = "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

/// Runs `auditrail serve --config server.toml` with `env`; its exit code and stderr. A
/// server that starts anyway is stopped after a while and reported as `None`.
fn serve(dir: &Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let stderr = dir.join("refused.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            "server.toml",
        ])
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

fn assert_names_key_value_and_accepted(text: &str) {
    for part in [
        "log_level",
        "\"warning\"",
        "error, warn, info, debug, trace",
    ] {
        assert!(
            text.contains(part),
            "the error does not name {part}: {text}"
        );
    }
}

#[test]
fn a_mistyped_level_in_the_file_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        format!("log_level = \"warning\"\n{REST}"),
    )
    .unwrap();
    let (code, stderr) = serve(dir.path(), &[]);
    assert!(
        code.is_some_and(|c| c != 0),
        "started with log_level = \"warning\" ({code:?}): {stderr}"
    );
    assert!(stderr.contains("server.toml"), "{stderr}");
    assert_names_key_value_and_accepted(&stderr);
}

#[test]
fn a_mistyped_level_in_the_environment_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), REST).unwrap();
    let (code, stderr) = serve(dir.path(), &[("AUDITRAIL_LOG_LEVEL", "warning")]);
    assert!(
        code.is_some_and(|c| c != 0),
        "started with AUDITRAIL_LOG_LEVEL=warning ({code:?}): {stderr}"
    );
    assert!(stderr.contains("AUDITRAIL_LOG_LEVEL"), "{stderr}");
    assert_names_key_value_and_accepted(&stderr);
    // A mistyped level inside a directive list is refused too.
    let (code, stderr) = serve(
        dir.path(),
        &[("AUDITRAIL_LOG_LEVEL", "info,auditrail=warning")],
    );
    assert!(code.is_some_and(|c| c != 0), "{stderr}");
    assert!(stderr.contains("\"warning\""), "{stderr}");
}

#[test]
fn a_mistyped_level_on_sighup_keeps_the_running_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    // What is accepted today stays accepted: a level, target=level directives.
    std::fs::write(
        &file,
        format!("log_level = \"warn,auditrail=info\"\n{REST}"),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    std::fs::write(&file, format!("log_level = \"warning\"\n{REST}")).unwrap();
    hangup(&server);
    // The refusal is an error line: logged, so logging was not switched off.
    wait_for_log(&server, "not reloaded");
    let log = server.stderr();
    assert!(server.child_alive(), "{log}");
    assert_names_key_value_and_accepted(&log);
    // The running level (info for auditrail) is still in force: a good file's
    // confirmation, an info line, is logged.
    std::fs::write(&file, format!("log_level = \"info\"\n{REST}")).unwrap();
    hangup(&server);
    wait_for_log(&server, "reloaded (keys");
    assert_eq!(server.terminate(), 0);
}
