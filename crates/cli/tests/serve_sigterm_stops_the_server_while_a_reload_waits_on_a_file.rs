//! A reload reads files (the config, the TLS files): one that blocks (a hung network
//! mount; here the config file replaced by a FIFO nobody writes) held the loop that
//! watches the signals, so SIGTERM and SIGINT no longer stopped the server (`systemctl
//! stop` ended in a SIGKILL, without the final checkpoint). Now the reload runs apart:
//! SIGTERM stops the server cleanly, saying the reload was abandoned.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;
use crate::tamper_support::make_fifo;

#[cfg(unix)]
#[test]
fn sigterm_stops_the_server_while_a_reload_waits_on_its_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = serve_support::start(dir.path(), &["--config", "server.toml"]);
    std::fs::remove_file(&config).unwrap();
    make_fifo(&config);
    serve_support::hangup(&server);
    serve_support::wait_for_log(&server, "SIGHUP: reading server.toml again");
    let log = server.stderr_path.clone();
    // Without the fix: "server did not exit after SIGTERM".
    assert_eq!(server.terminate(), 0);
    let log = std::fs::read_to_string(log).unwrap();
    assert!(
        log.contains("the reload still in progress is abandoned"),
        "{log}"
    );
}
