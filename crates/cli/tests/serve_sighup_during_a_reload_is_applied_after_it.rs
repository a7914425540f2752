//! A SIGHUP that came while a reload was still reading its files was dropped (logged as
//! "ignored"): an operator who saved the config twice and signalled after each save
//! kept whatever the first reload had read, not the last edit. Now such a SIGHUP is
//! kept and the file read again once the running reload ended. Here the first reload
//! waits on the config (a FIFO, as a slow network mount would), the second SIGHUP comes
//! meanwhile, and the file saved after it is the one read last.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;

use crate::serve_support;
use crate::tamper_support::make_fifo;

const REST: &str = "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";
const CONFIRMED: &str = "server.toml reloaded (keys";

#[cfg(unix)]
#[test]
fn a_sighup_during_a_reload_reads_the_file_again_once_it_ended() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(&config, REST).unwrap();
    let server = serve_support::start(dir.path(), &["--config", "server.toml"]);
    std::fs::remove_file(&config).unwrap();
    make_fifo(&config);
    serve_support::hangup(&server);
    serve_support::wait_for_log(&server, "SIGHUP: reading server.toml again");
    // The operator saves again and signals while the first reload still waits.
    serve_support::hangup(&server);
    serve_support::wait_for_log(&server, "the previous reload is still in progress");
    // The first reload gets the FIFO's content; the path now names the last save.
    let mut fifo = std::fs::OpenOptions::new()
        .write(true)
        .open(&config)
        .unwrap();
    serve_support::replace_file(&config, &format!("log_level = \"warn\"\n{REST}"));
    fifo.write_all(REST.as_bytes()).unwrap();
    drop(fifo);
    serve_support::wait_for_log(&server, CONFIRMED);
    // The second reload reads the last save: its `warn` hides its own confirmation
    // (info), and then the info lines of the stop.
    serve_support::wait_for_log_count(&server, "SIGHUP: reading server.toml again", 2);
    let log = server.stderr_path.clone();
    assert_eq!(server.terminate(), 0);
    let log = std::fs::read_to_string(log).unwrap();
    assert_eq!(log.matches(CONFIRMED).count(), 1, "{log}");
    assert!(
        !log.contains("shutting down: finishing in-flight batches"),
        "the last save (log_level = \"warn\") was not applied: {log}"
    );
}
