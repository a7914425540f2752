//! `auditrail query --audit-dir` over the folder of an event server's `file`
//! destination showed `origAddress`, `serverTimestamp` and `keyId` as NULL, though
//! every line there carries them (the reader took them, the query dropped them). They
//! are now the line's values, as a store's record of the same event shows them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::serve_support::{event_line, new_id, post_events, start};

#[test]
fn query_of_a_file_destinations_folder_shows_its_lines_provenance() {
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
    let id = new_id(1, 6601);
    let body = event_line(&id, "n1", 1) + "\n";
    let (status, answer) = post_events(&server.addr, &body, Some("secret-one-00000")).unwrap();
    assert_eq!(status, 200, "{answer}");
    server.terminate();

    let out = common::run_within(
        dir.path(),
        &[
            "query",
            "events",
            "--audit-dir",
            "copy",
            "--format",
            "ndjson",
        ],
        &[],
        std::time::Duration::from_secs(60),
    )
    .unwrap();
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let rows: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{stdout}\n{stderr}");
    let row = &rows[0];
    assert_eq!(row["id"], id.as_str(), "{row}");
    // The store's record of the same event: the same values, to the millisecond.
    let records = auditrail_testkit::store::records(&dir.path().join("data/store"));
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(row["origAddress"], "127.0.0.1", "{row}");
    assert_eq!(row["keyId"], "k1", "{row}");
    assert!(row["serverTimestamp"].is_string(), "{row}");
    for column in ["origAddress", "serverTimestamp", "keyId"] {
        assert_eq!(row[column], records[0][column], "{column}: {row}");
    }
    // No store chains a file destination's lines.
    assert!(row["chainSeq"].is_null(), "{row}");
}
