//! `auditrail send --stdin` to a real event server keeps each line's message exactly as
//! written, as the event model and the server do: a 30-digit integer, `-0`, `1E2`,
//! `1e400` and a long decimal arrive verbatim, in full events, partial events given
//! `--topic`, and bare messages. A key given twice in a message is not collapsed: the
//! line is refused with its number and the key, and the lines before and after it are
//! delivered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_testkit::server::ServerProcess;

const SENT: [&str; 5] = [
    r#"{"msgType":"usage","n":123456789012345678901234567890,"z":-0,"e":1E2}"#,
    r#"{"msgType":"usage","big":1e400}"#,
    r#"{"msgType":"usage","after":"the line after 1e400","k":0.10000000000000000000000001}"#,
    r#"{"msgType":"usage","w":1E+2,"a":[-0.0,1e-400]}"#,
    r#"{"msgType":"usage","late":1}"#,
];

#[test]
fn numbers_arrive_verbatim_and_a_repeated_key_is_refused_with_its_line() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), None);
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-num\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\n\
             name = \"central\"\nurl = \"{}\"\n",
            server.url
        ),
    )
    .unwrap();
    let input = [
        format!(r#"{{"topic":"generic","message":{}}}"#, SENT[0]),
        format!(r#"{{"topic":"generic","message":{}}}"#, SENT[1]),
        SENT[2].to_owned(), // a bare message: --topic
        format!(r#"{{"message":{}}}"#, SENT[3]), // no topic: --topic
        r#"{"topic":"generic","message":{"msgType":"login","authUser":"alice","authUser":"mallory"}}"#.to_owned(),
        format!(r#"{{"topic":"generic","message":{}}}"#, SENT[4]),
    ]
    .join("\n")
        + "\n";
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--stdin",
            "--topic",
            "generic",
        ],
        &input,
    );
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "a bad line: {stdout}\n{stderr}");
    assert!(
        stderr.contains("stdin line 5")
            && stderr.contains("message.authUser")
            && stderr.contains("duplicate key"),
        "the refused line, by number and key: {stderr}"
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["sent"], 5, "{summary}");
    assert_eq!(summary["acknowledged"], 5, "{summary}");
    assert_eq!(summary["badLines"], 1, "{summary}");

    let mut stored: Vec<(u64, String)> = server
        .stored()
        .into_iter()
        .map(|(_, e)| (e.seq, e.message.json().into_owned()))
        .collect();
    stored.sort();
    let messages: Vec<&str> = stored.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(messages, SENT, "each message as written, in order");
}
