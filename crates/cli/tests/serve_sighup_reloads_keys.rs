//! SIGHUP makes `auditrail serve` read its config file again: a key added there is
//! accepted and a key removed there is refused from then on, without a restart. The
//! server keeps running, and a later SIGTERM still stops it cleanly with a final
//! checkpoint that `auditrail verify` accepts (a SIGHUP used to kill it at once).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::process::Command;

use serve_support::*;

fn config(secret: &str) -> String {
    format!(
        "data_dir = \"data\"\n[[keys]]\nid = \"node\"\nsecret = \"{secret}\"\n\
         [[destinations]]\ntype = \"store\"\npath = \"store\"\n"
    )
}

#[test]
fn sighup_swaps_the_keys_and_the_server_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(&file, config("first-secret")).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let line = |n: u64| event_line(&new_id(n, 13), "node-hup", n) + "\n";
    let (status, answer) = post_events(&server.addr, &line(1), Some("first-secret")).unwrap();
    assert_eq!(status, 200, "{answer}");

    std::fs::write(&file, config("second-secret")).unwrap();
    hangup(&server);
    wait_for_log(&server, "reloaded (keys");
    assert!(
        server.child_alive(),
        "SIGHUP stopped the server: {}",
        server.stderr()
    );
    let (status, answer) = post_events(&server.addr, &line(2), Some("second-secret")).unwrap();
    assert_eq!(status, 200, "the reloaded key is refused: {answer}");
    let (status, answer) = post_events(&server.addr, &line(3), Some("first-secret")).unwrap();
    assert_eq!(status, 401, "the removed key still works: {answer}");

    assert_eq!(server.terminate(), 0);
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .arg("verify")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
