//! A config file that is a device (`--config` a link gone wrong to `/dev/zero`) or far
//! too large: it was read whole, as whatever it was, so that `serve --config`, `send
//! --config` and a SIGHUP reload took about 1 GB of memory a second until the OOM
//! killer ended the server. Now such a file is refused at once naming the path (a
//! regular file or a pipe of at most 4 MiB is read): the start fails, a reload keeps
//! the running configuration and says why.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::common;
use crate::serve_support;

const DEVICE: &str = "is a character device, not a regular file";

/// Runs `auditrail ARGS` in `cwd`; without the fix the read of `/dev/zero` never ends
/// (the memory runs out first): it is killed after 20 s and reported.
fn refused(cwd: &Path, args: &[&str]) -> String {
    let out: Output =
        common::run_within(cwd, args, &[], Duration::from_secs(20)).unwrap_or_else(|out| {
            panic!(
                "`auditrail {args:?}` still ran after 20 s: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    stderr
}

#[cfg(unix)]
#[test]
fn serve_and_send_refuse_a_config_linked_to_a_device_or_too_large() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::os::unix::fs::symlink("/dev/zero", &config).unwrap();
    let path = config.to_str().unwrap();
    let serve = ["serve", "--listen", "127.0.0.1:0", "--config", path];
    let send = [
        "send",
        "--config",
        path,
        "--topic",
        "generic",
        "--msg-type",
        "t",
        "--timeout",
        "2",
    ];
    for args in [&serve[..], &send[..]] {
        let err = refused(dir.path(), args);
        assert!(
            err.contains(&format!("{path}: cannot read: {DEVICE}")),
            "{args:?}: {err}"
        );
    }
    std::fs::remove_file(&config).unwrap();
    std::fs::File::create(&config)
        .unwrap()
        .set_len(5 << 20)
        .unwrap();
    for args in [&serve[..], &send[..]] {
        let err = refused(dir.path(), args);
        assert!(
            err.contains("holds 5242880 bytes or more, more than the 4194304 bytes"),
            "{args:?}: {err}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_reload_of_a_config_linked_to_a_device_keeps_the_running_one() {
    use serve_support::*;
    let dir = tempfile::tempdir().unwrap();
    let good = "data_dir = \"data\"\n[[keys]]\nid = \"node\"\nsecret = \"first-secret\"\n\
                [[destinations]]\ntype = \"store\"\npath = \"store\"\n";
    std::fs::write(dir.path().join("real.toml"), good).unwrap();
    let config = dir.path().join("server.toml");
    std::fs::copy(dir.path().join("real.toml"), &config).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    std::fs::remove_file(&config).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &config).unwrap();
    hangup(&server);
    wait_for_log(&server, "not reloaded");
    let log = server.stderr();
    assert!(log.contains(DEVICE), "{log}");
    assert!(server.child_alive(), "{log}");
    let body = event_line(&new_id(1, 14), "node-1", 1) + "\n";
    let (status, answer) = post_events(&server.addr, &body, Some("first-secret")).unwrap();
    assert_eq!(status, 200, "the running key stopped working: {answer}");
    // The reload path still works once the file is back.
    std::fs::remove_file(&config).unwrap();
    std::fs::write(&config, good.replace("first-secret", "second-secret")).unwrap();
    hangup(&server);
    wait_for_log(&server, "server.toml reloaded");
    let body = event_line(&new_id(2, 14), "node-1", 2) + "\n";
    let (status, answer) = post_events(&server.addr, &body, Some("second-secret")).unwrap();
    assert_eq!(status, 200, "the reloaded key is not used: {answer}");
    assert_eq!(server.terminate(), 0);
}
