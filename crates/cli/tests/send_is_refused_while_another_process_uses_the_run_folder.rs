//! A run folder is used by one process at a time. While a long-running `auditrail send
//! --stdin` (the application, fed by a pipe that stays open) holds a node config's run
//! folder, a second `auditrail send` with the same config is refused at once: it names
//! the folder and says what to do, and sends nothing. Sharing the folder would have let
//! it send the first one's spooled events, acknowledge past them and delete the spool
//! segment the first one still appends to, losing what that one spooled afterwards.
//! The first one's events, those sent before and after the refusal, are all delivered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::io::Write;
use std::time::Duration;

use auditrail_testkit::server::{wait_until, ServerProcess};

fn line(user: &str) -> String {
    format!(
        "{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"{user}\"}}}}\n"
    )
}

#[test]
fn a_second_send_on_a_run_folder_in_use_is_refused_and_the_first_delivers_everything() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&data.path().join("data"), None);
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-lock\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"{}\"\nshutdown_drain_ms = 300\n",
            server.url
        ),
    )
    .unwrap();

    let mut app = common::StreamingSend::start(&node, &[]);
    for i in 0..3 {
        app.input
            .write_all(line(&format!("a{i}")).as_bytes())
            .unwrap();
    }
    app.input.flush().unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || server.stored().len() == 3),
        "the running send did not deliver its first events: {}",
        app.stderr()
    );

    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--topic",
            "generic",
            "--msg-type",
            "login",
            "--user",
            "b0",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.is_empty(), "nothing sent, no summary: {stdout}");
    // `run_dir = "run"` is in the config file's folder, and named so.
    let run = std::fs::canonicalize(node.path()).unwrap().join("run");
    assert!(
        stderr.contains(&format!("run folder {} is in use by", run.display())),
        "names the folder: {stderr}"
    );
    assert!(
        stderr.contains(&format!("pid {} (auditrail)", app.child.id())),
        "names the holder: {stderr}"
    );
    assert!(
        stderr.contains("its own `run_dir`"),
        "says what to do: {stderr}"
    );

    // The first one goes on with its folder: later events are delivered too.
    for i in 3..6 {
        app.input
            .write_all(line(&format!("a{i}")).as_bytes())
            .unwrap();
    }
    let common::StreamingSend {
        child, input, log, ..
    } = app;
    drop(input); // end of input: the first send finishes
    let out = child.wait_with_output().unwrap();
    let (stdout, _) = common::text(&out);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["acknowledged"], 6, "{summary}");

    let users = common::stored_users(&server);
    assert_eq!(
        users,
        ["a0", "a1", "a2", "a3", "a4", "a5"],
        "every event of the first send stored once, none of the refused one"
    );
}
