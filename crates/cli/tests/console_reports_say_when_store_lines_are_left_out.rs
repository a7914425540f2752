//! The console's reports say when lines of the stores they read are not events (a
//! record changed by hand, a foreign line): those lines are left out of the reports,
//! and the CLI says so on stderr, but the server's report answers did not, and the page
//! showed the figures as whole. The answers now carry `unreadableLines` (each line
//! once: a report of several queries counted it once per query, and `auditrail query
//! node-usage` said "skipped 2 line(s)" of a store with one), and the page says it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use crate::browser_support;
use crate::serve_support;

use auditrail::Timestamp;
use browser_support::Browser;
use serde_json::json;
use serve_support::*;

const HOUR: i64 = 3_600_000;

fn event(n: u64, ms: i64) -> String {
    json!({
        "id": new_id(n, 67), "timestamp": Timestamp::from_unix_millis(ms).unwrap().to_string(),
        "topic": "generic", "node": "node-s", "seq": n,
        "message": {"msgType": "login", "authUser": format!("user-{n}")}
    })
    .to_string()
}

/// The segment files under `dir`.
fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            found.extend(segments(&path));
        } else if name.ends_with(".jsonl") && name.starts_with('0') {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_say_when_store_lines_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let now = Timestamp::now().unix_millis();
    // Three events two hours ago, then one an hour ago (in a partition of its own).
    let body = [
        event(1, now - 2 * HOUR),
        event(2, now - 2 * HOUR),
        event(3, now - 2 * HOUR),
        event(4, now - HOUR),
    ]
    .join("\n");
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    server.kill9();

    // The second record of the older partition, changed by hand into a line that is no
    // event.
    let older = segments(&dir.path().join("data/store"))
        .into_iter()
        .find(|p| std::fs::read_to_string(p).unwrap().lines().count() == 3)
        .expect("the segment of the three events");
    let text = std::fs::read_to_string(&older).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[1] = format!("X{}", &lines[1][1..]);
    std::fs::write(&older, lines.join("\n") + "\n").unwrap();

    let server = start(dir.path(), &["--data-dir", "data"]);
    let browser = Browser::start().await;
    browser.open(&server.addr, "/#reports").await;
    browser
        .wait_state("lines-left-out", "report-status", "loaded")
        .await;
    let status = browser.texts("#report-status").await.remove(0);
    assert!(
        status.starts_with("window: since ")
            && status.ends_with(
                ". 1 line of the stores read are not events (torn or foreign) and are left \
                 out of these reports; auditrail verify STORE names them"
            ),
        "{status}"
    );
    // The three other events are in the reports.
    assert_eq!(
        browser.table("#node-usage-table").await[0][..2],
        ["node-s".to_owned(), "3".to_owned()]
    );
    browser.close().await;
    server.kill9();
}
