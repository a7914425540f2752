//! A store holding a line that is not an event (damaged on disk, a foreign line):
//! `auditrail sql` says on stderr that it skipped it, but `/v1/query` answered the
//! same partial answer (a count short by the damaged record) without a word, SQL and
//! reports alike, as if the record had never been stored. The answer now says how
//! many lines it left out (`unreadableLines`), and says nothing more when none.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::query_support;
use crate::serve_support;

use serve_support::*;

#[test]
fn a_query_answer_over_a_damaged_line_says_how_many_lines_it_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let lines: Vec<String> = (1..=3)
        .map(|seq| event_line(&new_id(seq, 93), "n1", seq))
        .collect();
    assert_eq!(
        post_events(&server.addr, &lines.join("\n"), None)
            .unwrap()
            .0,
        200
    );
    let sql = "SELECT count(*) AS n FROM events";
    let (status, whole) = query_support::query(&server.addr, sql);
    assert_eq!(status, 200, "{whole}");
    assert_eq!(whole["rows"][0]["n"], 3, "{whole}");
    assert!(whole.get("unreadableLines").is_none(), "{whole}");

    // The second record of the segment damaged in place (same length: the writer's
    // file is unchanged otherwise).
    let segment = query_support::files_under(&dir.path().join("data"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "jsonl") && p.iter().any(|c| c == "generic"))
        .expect("a segment file");
    let text = std::fs::read_to_string(&segment).unwrap();
    let mut records: Vec<String> = text.split('\n').map(str::to_owned).collect();
    records[1] = "x".repeat(records[1].len());
    std::fs::write(&segment, records.join("\n")).unwrap();

    let (status, sql_answer) = query_support::query(&server.addr, sql);
    assert_eq!(status, 200, "{sql_answer}");
    assert_eq!(sql_answer["rows"][0]["n"], 2, "{sql_answer}");
    assert_eq!(
        sql_answer["unreadableLines"], 1,
        "an answer short by a damaged record must say so: {sql_answer}"
    );
    let (status, report) = query_support::get(&server.addr, "/v1/query?report=node-usage");
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["report"][0]["events"], 2, "{report}");
    // A report reads the stores in more than one pass (node-usage: two), each
    // counting the lines it met, as `auditrail query node-usage` counts them.
    assert!(
        report["unreadableLines"].as_u64().is_some_and(|n| n >= 1),
        "a report short by a damaged record must say so: {report}"
    );
}
