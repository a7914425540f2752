//! Retention with `archive` keeps a closed partition's retention while late events keep
//! arriving for it (a node's spooled backlog, a clock behind). A pass uploads the
//! partition's segments, then deletes what is still as uploaded; a late event appended
//! meanwhile changed the partition at every pass, which was "left for the next prune"
//! for as long as the trickle lasted (the soak's
//! `03-archive-never-deletes-a-partition-with-late-events.sh`: 228 MB of segments against
//! a 20 MB `retention_max_bytes`). Here a proxy holds the upload of the old partition's
//! segment at each pass, and the test posts a late event for it meanwhile: every pass
//! still deletes (and archived) what the partition held, and the late event stays for
//! the next pass.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::s3_support;
use crate::serve_support;
use crate::tamper_support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use retention_support::{days, write_config};
use serve_support::{new_id, post_events, start, ServerProc};

const OLD: &str = "2025-01-01";

/// Posts `count` events of topic `generic` dated `OLD` (ids salted by `salt`), then one
/// of now (the newest record, which a pass keeps, is never in the old partition).
fn post_late(server: &ServerProc, count: u64, salt: u64) -> Vec<String> {
    let mut ids = Vec::new();
    let mut body = String::new();
    for n in 1..=count + 1 {
        let id = new_id(n, salt);
        let timestamp = if n <= count {
            format!("{OLD}T10:00:{:02}.000Z", n % 60)
        } else {
            auditrail::Timestamp::now().to_string()
        };
        body += &serde_json::json!({
            "id": id, "timestamp": timestamp, "topic": "generic", "node": "late",
            "seq": salt * 1000 + n, "message": {"msgType": "login", "authUser": "alice"}
        })
        .to_string();
        body.push('\n');
        if n <= count {
            ids.push(id);
        }
    }
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    ids
}

/// The old partition's segments: (relative path, records).
fn old_segments(store: &Path) -> Vec<(String, usize)> {
    let folder = format!("/{}/", OLD.replace('-', "/"));
    auditrail_store::StoreFiles::walk(store)
        .unwrap()
        .segments()
        .filter(|f| f.rel.contains(&folder))
        .map(|f| {
            let text = std::fs::read_to_string(&f.path).unwrap();
            (f.rel.clone(), text.lines().count())
        })
        .collect()
}

/// Waits (bounded) until the server logs the end of its retention pass: what it says.
fn pass_outcome(server: &ServerProc) -> String {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let log = server.stderr();
        if log.contains("retention deleted time partitions")
            || log.contains("left for the next prune")
            || log.contains("retention failed")
        {
            return log;
        }
        assert!(Instant::now() < until, "no retention pass ended: {log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn every_pass_deletes_and_archives_a_partition_that_late_events_keep_changing() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = s3_support::start(dir.path());
    let proxy = s3_support::holding_proxy_containing(
        &s3,
        &format!("/{}/", OLD.replace('-', "/")),
        Duration::from_secs(60),
    );
    write_config(dir.path(), "");
    let store = dir.path().join("data/store");
    let today = auditrail::Timestamp::now().to_string()[..10].to_string();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let mut old_ids = post_late(&server, 5, 1);
    assert_eq!(tamper_support::stop(server), 0);
    write_config(
        dir.path(),
        &format!(
            "retention_max_bytes = 1\narchive = {{ url = \"s3://{}/eu-1/store\", endpoint = \"{}\", region = \"us-east-1\", allow_http = true, access_key_id = \"{}\", secret_access_key = \"{}\" }}\n",
            s3_support::BUCKET,
            proxy.endpoint,
            s3_support::ACCESS_KEY,
            s3_support::SECRET_KEY
        ),
    );

    // Each start runs a pass. While it uploads the old partition's segment, a late
    // event for that partition is stored.
    for pass in 1..=3u64 {
        proxy.rearm();
        let server = start(dir.path(), &["--config", "server.toml"]);
        proxy.wait_until_held();
        let late = post_late(&server, 1, 10 + pass);
        assert!(
            !proxy.was_let_through(),
            "pass {pass}: the late event was stored only after the upload"
        );
        proxy.release();
        let log = pass_outcome(&server);
        assert_eq!(tamper_support::stop(server), 0);
        assert!(
            log.contains("retention deleted time partitions") && !log.contains("left for the next prune"),
            "pass {pass}: the partition a late event changed during the upload was not deleted: {log}"
        );
        // What the partition held before the pass is gone; the late event alone stays.
        let left = old_segments(&store);
        assert_eq!(left.len(), 1, "pass {pass}: {left:?}");
        assert_eq!(left[0].1, 1, "pass {pass}: {left:?}");
        old_ids.extend(late);
    }

    // A pass without late events deletes the partition's last segment.
    let server = start(dir.path(), &["--config", "server.toml"]);
    let log = pass_outcome(&server);
    assert!(log.contains("retention deleted time partitions"), "{log}");
    assert_eq!(tamper_support::stop(server), 0);
    assert_eq!(days(&store), [today.replace('-', "/")]);

    // Every record the partition ever held is in the archive.
    let archived = auditrail_testkit::store::stored_ids(&s3.object_file("eu-1/store"));
    for id in &old_ids {
        assert!(archived.contains_key(id), "{id} is not in the archive");
    }
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (code, report) = tamper_support::verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", "--archive", "s3://audit/eu-1/store"])
        .args(["--archive-endpoint", &s3.endpoint, "--archive-allow-http"])
        .args(["--archive-region", "us-east-1", "--public-key", key.trim()])
        .arg("--json")
        .env("AWS_ACCESS_KEY_ID", s3_support::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", s3_support::SECRET_KEY)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{report:#}");
}
