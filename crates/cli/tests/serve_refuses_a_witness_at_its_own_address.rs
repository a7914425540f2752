//! A `[[witnesses]]` entry whose url is the server's own address (the nodes' url,
//! copied) was accepted: the server witnessed itself, each copy of a checkpoint a new
//! record in its own store (within its reach), checkpointed and copied again for ever.
//! The start is now refused, naming the witness, its url and the listen address, under
//! the address's other spellings too (`localhost`, a loopback address for a server on
//! `0.0.0.0`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::BufRead;
use std::process::{Command, Stdio};

/// Runs `serve` until it exits (refused) or prints its address (started: `None`).
fn run(dir: &std::path::Path, listen: &str) -> Option<(i32, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["serve", "--config", "server.toml", "--listen", listen])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    for line in out.lines().map_while(Result::ok) {
        if line.starts_with("listening on") {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
    }
    let output = child.wait_with_output().unwrap();
    Some((
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

#[test]
fn a_witness_url_naming_this_servers_own_address_is_refused_at_the_start() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on: the refusal comes before the bind.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for (listen, url) in [
        (
            format!("127.0.0.1:{port}"),
            format!("http://127.0.0.1:{port}"),
        ),
        (
            format!("127.0.0.1:{port}"),
            format!("http://LocalHost:{port}/"),
        ),
        (
            format!("0.0.0.0:{port}"),
            format!("https://127.0.0.1:{port}"),
        ),
    ] {
        std::fs::write(
            dir.path().join("server.toml"),
            format!(
                "data_dir = \"data\"\nallow_unauthenticated = true\n\
                 [[destinations]]\ntype = \"store\"\npath = \"store\"\n\
                 [[witnesses]]\nname = \"offsite\"\ntype = \"eventserver\"\nurl = \"{url}\"\n"
            ),
        )
        .unwrap();
        let Some((code, err)) = run(dir.path(), &listen) else {
            panic!("started with the witness {url} on {listen}");
        };
        assert_ne!(code, 0, "{err}");
        assert!(
            err.contains(&format!(
                "witnesses[0] (\"offsite\"): url {url:?} is this server's own listen address ({listen})"
            )),
            "{listen} {url}: {err}"
        );
    }
}
