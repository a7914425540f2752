//! Two different values are never shown as one: in the `query events` table, its CSV and
//! the `last-activity` report, the user `a` LF `b` and the user `a\nb` (a backslash and
//! an `n`) were both shown `a\nb`, and in CSV `=1+1` and `'=1+1` both `'=1+1` (the
//! formula guard's quote was not told apart from a quote of the value's own). Now a
//! backslash is shown doubled and a cell starting with `'` gets one more.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::json;
use serve_support::*;

const USERS: [&str; 4] = ["a\nb", "a\\nb", "=1+1", "'=1+1"];

fn event(n: u64, user: &str) -> String {
    json!({
        "id": new_id(n, 405), "timestamp": format!("2026-11-25T10:00:0{n}.000Z"),
        "topic": "generic", "node": "node-e", "seq": n,
        "message": {"msgType": "login", "authUser": user}
    })
    .to_string()
}

fn auditrail(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The cells of CSV column `name` (the columns before it hold no comma).
fn csv_column(text: &str, name: &str) -> Vec<String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header
        .iter()
        .position(|h| *h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    lines
        .map(|l| l.split(',').nth(at).unwrap_or_default().to_owned())
        .collect()
}

/// The cells of text-table column `name` (`| a | b |` rows under a `| name |` header).
fn table_column(text: &str, name: &str) -> Vec<String> {
    let cells = |l: &str| -> Vec<String> { l.split('|').map(|c| c.trim().to_owned()).collect() };
    let mut rows = text.lines().filter(|l| l.starts_with('|')).map(cells);
    let header = rows.next().unwrap();
    let at = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    rows.map(|r| r[at].clone()).collect()
}

/// As many different cells as `USERS` has values.
fn assert_all_different(what: &str, cells: &[String]) {
    let distinct: BTreeSet<&String> = cells.iter().collect();
    assert_eq!(
        distinct.len(),
        USERS.len(),
        "{what}: {} values shown as {cells:?}",
        USERS.len()
    );
}

#[test]
fn different_values_are_shown_differently_in_tables_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let body: Vec<String> = (1..).zip(USERS).map(|(n, u)| event(n, u)).collect();
    let (status, answer) = post_events(&server.addr, &body.join("\n"), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    let d = dir.path();

    let csv = auditrail(d, &["query", "--dir", "data", "events", "--format", "csv"]);
    let cells = csv_column(&csv, "authUser");
    assert_all_different("query events --format csv", &cells);
    assert!(cells.contains(&"''=1+1".to_owned()), "{cells:?}");

    let table = auditrail(d, &["query", "--dir", "data", "events"]);
    let cells = table_column(&table, "authUser");
    assert_all_different("query events (table)", &cells);

    let report = auditrail(d, &["query", "--dir", "data", "last-activity"]);
    let rows: Vec<String> = report
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_owned())
        .collect();
    assert_all_different("query last-activity", &rows);
}
