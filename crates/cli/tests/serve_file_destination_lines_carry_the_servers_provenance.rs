//! A `file` destination of `auditrail serve` wrote the event alone: nothing in its
//! lines said who sent it, when the server received it or with which key, which the
//! store's records carry (`origAddress`, `serverTimestamp`, `keyId`, the reference
//! envelope's provenance). Its lines now end with those fields, under the store's
//! names and with the same values as the store's record of the same event; the
//! target-file reader gives them back as the event's `Received`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::{event_line, new_id, post_events, start};

/// Every line of the files under `dir`, as JSON.
fn file_lines(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        let text = std::fs::read_to_string(&entry).unwrap();
        out.extend(
            text.lines()
                .filter(|l| l.starts_with("{\"severity\""))
                .map(str::to_owned),
        );
    }
    out
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_file_destination_line_carries_the_address_receive_time_and_key_id() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\nshutdown_timeout_s = 1\n\
         [[keys]]\nid = \"k1\"\nsecret = \"secret-one-00000\"\n\
         [[destinations]]\ntype = \"store\"\npath = \"store\"\n\
         [[destinations]]\ntype = \"file\"\nname = \"copy\"\ndir = \"copy\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let id = new_id(1, 6501);
    let body = event_line(&id, "n1", 1) + "\n";
    let (status, answer) = post_events(&server.addr, &body, Some("secret-one-00000")).unwrap();
    assert_eq!(status, 200, "{answer}");
    server.terminate();

    let lines = file_lines(&dir.path().join("copy"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(line["id"], id.as_str(), "{line}");
    assert_eq!(line["origAddress"], "127.0.0.1", "{line}");
    assert_eq!(line["keyId"], "k1", "{line}");
    // The same provenance as the store's record of the event, to the millisecond.
    let records = auditrail_testkit::store::records(&dir.path().join("data/store"));
    assert_eq!(records.len(), 1, "{records:?}");
    for field in ["origAddress", "serverTimestamp", "keyId"] {
        assert_eq!(
            line[field], records[0][field],
            "{field}: {line} / {}",
            records[0]
        );
    }
    assert!(line["serverTimestamp"].is_string(), "{line}");

    // The reader gives them back.
    let event = auditrail::target_file::read::parse_line(lines[0].as_bytes()).unwrap();
    let received = event.received.as_deref().expect("no provenance read back");
    assert_eq!(received.key_id.as_deref(), Some("k1"));
    assert_eq!(received.orig_address, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(
        received.server_timestamp.to_string(),
        line["serverTimestamp"].as_str().unwrap()
    );
}
