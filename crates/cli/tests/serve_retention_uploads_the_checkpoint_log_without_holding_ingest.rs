//! A retention pass of a store with `archive` uploads the store's checkpoint log (with
//! its deletion line) before it removes anything. That log is never pruned: it grows by
//! a line per sealed batch for as long as the store lives (gigabytes after weeks under
//! steady load), so its upload and read-back take longer at every pass. They were done
//! holding the store's writer: every batch waited for them (the soak's
//! `01-archive-log-upload-holds-ingest.sh`: 19 s for a held upload). Here the S3 server
//! is slow on the log's upload (a proxy holds it); a batch posted meanwhile is answered,
//! and the pass still archives and deletes once the upload goes through.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::s3_support;
use crate::serve_support;
use crate::tamper_support;

use std::time::Duration;

use retention_support::{days, post_day, write_config};
use serve_support::{lines_now, post_events, start, wait_for_log};

#[test]
fn a_batch_is_answered_while_the_archive_uploads_the_checkpoint_log() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = s3_support::start(dir.path());
    // Without the fix the batch waits for the held upload: the cap lets it through
    // after the server's `ack_timeout_ms` (30 s), so the batch's answer is a 503.
    let proxy = s3_support::holding_proxy(&s3, "/checkpoints.jsonl", Duration::from_secs(40));
    write_config(dir.path(), "");
    let store = dir.path().join("data/store");
    let today = auditrail::Timestamp::now().to_string()[..10].to_string();
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 10, 1);
    post_day(&server, &today, 10, 3);
    assert_eq!(tamper_support::stop(server), 0);
    write_config(
        dir.path(),
        &format!(
            "retention = \"30d\"\narchive = {{ url = \"s3://{}/eu-1/store\", endpoint = \"{}\", region = \"us-east-1\", allow_http = true, access_key_id = \"{}\", secret_access_key = \"{}\" }}\n",
            s3_support::BUCKET,
            proxy.endpoint,
            s3_support::ACCESS_KEY,
            s3_support::SECRET_KEY
        ),
    );

    // The pass at start uploads the old day, writes its deletion line, then uploads
    // the log: held.
    let server = start(dir.path(), &["--config", "server.toml"]);
    proxy.wait_until_held();
    let (status, answer) =
        post_events(&server.addr, &lines_now("n2", 1..=5, 0x5a0c), None).unwrap();
    let while_held = !proxy.was_let_through();
    proxy.release();
    assert_eq!(status, 200, "{answer}");
    assert!(
        while_held,
        "the batch was answered only once the checkpoint log's upload went through: ingest waited for the archive"
    );

    // The pass goes on: the log's upload goes through, the old day is deleted.
    wait_for_log(&server, "retention deleted time partitions");
    assert_eq!(tamper_support::stop(server), 0);
    assert_eq!(days(&store), [today.replace('-', "/")]);
    let archived_log = std::fs::read(s3.object_file("eu-1/store/checkpoints.jsonl")).unwrap();
    let store_log = std::fs::read(store.join("checkpoints.jsonl")).unwrap();
    assert!(store_log.starts_with(&archived_log));
    let log = String::from_utf8(archived_log).unwrap();
    assert!(
        log.lines().any(|l| l.contains("\"archived\"")),
        "the archived log holds the deletion line naming the objects"
    );
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (code, report) = tamper_support::verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
}
