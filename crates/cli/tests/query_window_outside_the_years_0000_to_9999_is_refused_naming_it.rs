//! A report's window (`since`, `until`) outside the years 0000 to 9999 — a date with a
//! year before 0000 (`-0001-01-01`) or an offset that takes it there
//! (`0000-01-01T00:00:00+01:00`) — is refused naming the parameter: `400 bad_query` on
//! the server, exit status 1 from `auditrail query`. Before, the CLI answered an empty
//! report, and the server answered `500 internal`: its query worker, handed the window
//! as RFC 3339 text, could not read a year before 0000 back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::process::Command;

use crate::query_support;
use crate::serve_support;

const OUTSIDE: [(&str, &str); 3] = [
    ("since", "-0001-01-01"),
    ("since", "0000-01-01T00:00:00+01:00"),
    ("until", "-0001-12-31 23:00"),
];

#[test]
fn the_server_and_the_query_command_refuse_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let line = serve_support::event_line(&serve_support::new_id(1, 0x5e43), "n1", 1);
    let (status, answer) = serve_support::post_events(&server.addr, &line, None).unwrap();
    assert_eq!(status, 200, "{answer}");

    for (name, value) in OUTSIDE {
        let encoded = value.replace('+', "%2B").replace(' ', "%20");
        let (status, answer) = query_support::get(
            &server.addr,
            &format!("/v1/query?report=node-usage&{name}={encoded}"),
        );
        assert_eq!(status, 400, "{name}={value}: {answer}");
        assert_eq!(answer["error"], "bad_query", "{name}={value}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{name} {value:?}: outside the years 0000 to 9999")),
            "{name}={value}: {message}"
        );
    }
    // The server answers on.
    let (status, answer) = query_support::get(&server.addr, "/v1/query?report=node-usage");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);

    for (name, value) in OUTSIDE {
        let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
            .args([
                "query",
                "node-usage",
                &format!("--{name}={value}"),
                "--store",
            ])
            .arg(dir.path().join("data/store"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "--{name}={value}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "--{name} {value:?}: outside the years 0000 to 9999"
            )),
            "--{name}={value}: {stderr}"
        );
    }
}
