//! A `[tls]` file that is not a regular file, or is far too large: a FIFO at `tls.key`
//! (a secrets agent's) made the start hang without a word and, at a SIGHUP, the reload
//! wait on it for ever, after which SIGTERM no longer stopped the server; `tls.cert =
//! "/dev/zero"` was read until the memory ran out. Now each is refused at once naming
//! the setting and the path: the start fails, a reload keeps the running configuration
//! and says why, and SIGTERM stops the server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::serve_support;
use crate::tamper_support::{make_fifo, try_start};

const CONFIG: &str = "[tls]\ncert = \"tls.crt\"\nkey = \"tls.key\"\n\
                      [[destinations]]\ntype = \"store\"\npath = \"store\"\n";

fn write_pair(dir: &Path) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.join("tls.crt"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("tls.key"), cert.key_pair.serialize_pem()).unwrap();
}

#[cfg(unix)]
#[test]
fn a_fifo_a_device_or_a_huge_file_at_a_tls_file_is_refused_at_the_start() {
    let dir = tempfile::tempdir().unwrap();
    write_pair(dir.path());
    let huge = dir.path().join("huge.pem");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(5 << 20).unwrap();
    // The FIFO first: without the fix, `/dev/zero` is read until the memory runs out.
    let cases = [
        (
            "key = \"fifo.key\"",
            "fifo.key: is a FIFO (named pipe), not a regular file",
        ),
        (
            "cert = \"/dev/zero\"",
            "tls.cert /dev/zero: is a character device, not a regular file",
        ),
        (
            "cert = \"huge.pem\"",
            "huge.pem: holds 5242880 bytes or more, more than the 4194304 bytes",
        ),
    ];
    make_fifo(&dir.path().join("fifo.key"));
    for (setting, said) in cases {
        let line = if setting.starts_with("cert") {
            "cert = \"tls.crt\""
        } else {
            "key = \"tls.key\""
        };
        std::fs::write(
            dir.path().join("server.toml"),
            CONFIG.replace(line, setting),
        )
        .unwrap();
        // Without the fix the FIFO panics here: "the server neither listened nor exited".
        let (code, err) = match try_start(dir.path()) {
            Ok(server) => panic!("started with {setting}: {}", server.stderr()),
            Err(refused) => refused,
        };
        assert_ne!(code, 0, "{setting}: {err}");
        assert!(err.contains(said), "{setting}: expected {said:?} in: {err}");
    }
}

#[cfg(unix)]
#[test]
fn a_reload_with_a_fifo_at_tls_key_keeps_the_running_files_and_sigterm_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    write_pair(dir.path());
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = serve_support::start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    std::fs::remove_file(dir.path().join("tls.key")).unwrap();
    make_fifo(&dir.path().join("tls.key"));
    serve_support::hangup(&server);
    serve_support::wait_for_log(&server, "not reloaded");
    let log = server.stderr();
    assert!(
        log.contains(&format!(
            "tls.key {}: is a FIFO (named pipe), not a regular file",
            dir.path().join("tls.key").display()
        )),
        "{log}"
    );
    assert!(server.child_alive(), "{log}");
    // Without the fix: "server did not exit after SIGTERM".
    assert_eq!(server.terminate(), 0);
}
