//! The config path replaced by a FIFO nobody writes (a secrets or templating agent's
//! pipe that is not serving, a `mkfifo` gone wrong) at a SIGHUP: the reload's open
//! waited for a writer for ever, and every later SIGHUP only logged "the previous
//! reload is still in progress": no reload was applied again until a restart, without
//! a word. A pipe cannot be read a second time anyway: now a reload refuses one at
//! once, says so and keeps the running configuration, and the next SIGHUP with the
//! file put back is applied.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::*;
use crate::tamper_support::make_fifo;

const CONFIG: &str = "data_dir = \"data\"\n[[keys]]\nid = \"node\"\nsecret = \"first-secret\"\n\
                      [[destinations]]\ntype = \"store\"\npath = \"store\"\n";

#[cfg(unix)]
#[test]
fn a_reload_refuses_a_fifo_at_the_config_path_at_once_and_the_next_one_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    std::fs::remove_file(&config).unwrap();
    make_fifo(&config);
    hangup(&server);
    // Without the fix: the reload waits on the FIFO, this line never comes.
    wait_for_log(&server, "server.toml not reloaded");
    let log = server.stderr();
    assert!(
        log.contains(
            "SIGHUP: server.toml not reloaded, the running configuration is kept: \
             server.toml: cannot read: is a pipe, which cannot be read a second time"
        ),
        "{log}"
    );
    let body = event_line(&new_id(1, 15), "node-1", 1) + "\n";
    let (status, answer) = post_events(&server.addr, &body, Some("first-secret")).unwrap();
    assert_eq!(status, 200, "the running key stopped working: {answer}");
    // The operator puts the file back, with a new key, and signals again.
    std::fs::remove_file(&config).unwrap();
    std::fs::write(&config, CONFIG.replace("first-secret", "second-secret")).unwrap();
    hangup(&server);
    wait_for_log(&server, "server.toml reloaded (keys");
    let log = server.stderr();
    assert!(!log.contains("still in progress"), "{log}");
    let body = event_line(&new_id(2, 15), "node-1", 2) + "\n";
    let (status, answer) = post_events(&server.addr, &body, Some("second-secret")).unwrap();
    assert_eq!(status, 200, "the reloaded key is not used: {answer}");
    assert_eq!(server.terminate(), 0);
}
