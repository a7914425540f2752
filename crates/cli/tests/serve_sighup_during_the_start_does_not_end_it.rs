//! `serve` took over SIGHUP only once its runtime ran, after reading its config: a
//! SIGHUP before that (log rotation, `systemctl reload` right after a start; the window
//! grows with the config's keys or a slow mount) ended the process by the signal's
//! default action, without a line, an exit systemd counts as clean (no restart). Now
//! SIGHUP is taken over before the config is read, and one that came during the start
//! is a reload once the server serves. Here the config is a FIFO: the server waits on
//! it while the SIGHUP comes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;

use crate::serve_support;
use crate::tamper_support::make_fifo;

const CONFIG: &str = "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

#[cfg(unix)]
#[test]
fn a_sighup_while_the_start_reads_its_config_is_a_reload_once_it_serves() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    make_fifo(&config);
    let starting = serve_support::spawn(dir.path(), &["--config", "server.toml"]);
    // Returns once the server opened the config to read it: it is within its start.
    let mut fifo = std::fs::OpenOptions::new()
        .write(true)
        .open(&config)
        .unwrap();
    let pid = starting.pid().to_string();
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    assert!(hup.success());
    // The reload that follows reads a regular file; the start reads the FIFO.
    serve_support::replace_file(&config, CONFIG);
    fifo.write_all(CONFIG.as_bytes()).unwrap();
    drop(fifo);
    // Without the fix: "server did not print its address (Ok(ExitStatus(... signal: 1
    // (SIGHUP))))" with an empty log.
    let server = starting.listening();
    serve_support::wait_for_log(&server, "server.toml reloaded (keys");
    assert_eq!(server.terminate(), 0);
}
