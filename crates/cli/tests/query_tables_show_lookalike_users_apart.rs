//! `query last-activity` and `query events` tables show users that only look alike as
//! different cells: U+00A0 "bob" and " bob", and "José" in NFC (U+00E9) and in NFD
//! (`e` + U+0301), were printed identically (and the NFD row was misaligned), so an
//! account could pass for another. A no-break space is shown `\u{a0}`, and a text not
//! in NFC has its combining marks escaped (`Jose\u{301}`); columns stay aligned.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use retention_support::run;
use serde_json::json;

const USERS: [&str; 4] = ["Jos\u{e9}", "Jose\u{301}", "\u{a0}bob", " bob"];
/// How each is shown in a table.
const SHOWN: [&str; 4] = ["Jos\u{e9}", "Jose\\u{301}", "\\u{a0}bob", "\" bob\""];

#[test]
fn users_that_look_alike_are_shown_apart_and_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit");
    std::fs::create_dir(&audit).unwrap();
    let lines: String = USERS
        .iter()
        .enumerate()
        .map(|(i, user)| {
            json!({
                "severity": "INFO", "logger": "audit.generic",
                "id": format!("00000000-0000-7000-8000-{:012}", i + 1),
                "timestamp": format!("2026-12-01T10:00:0{i}.000Z"), "topic": "generic",
                "node": "n1", "seq": i + 1,
                "message": {"msgType": "login", "authUser": user}
            })
            .to_string()
                + "\n"
        })
        .collect();
    std::fs::write(audit.join("audit.log"), lines).unwrap();
    std::fs::write(audit.join(".audit.log.lock"), "").unwrap();

    let window = ["--since", "2026-11-30", "--until", "2026-12-02"];
    let mut args = vec!["query", "last-activity", "--audit-dir", "audit"];
    args.extend(window);
    let (code, out) = run(dir.path(), &args);
    assert_eq!(code, 0, "{out}");
    let rows: Vec<&str> = out.lines().filter(|l| l.contains("2026-12-01T")).collect();
    assert_eq!(rows.len(), 4, "{out}");
    for shown in SHOWN {
        assert_eq!(
            rows.iter()
                .filter(|r| r.starts_with(&format!("{shown} ")))
                .count(),
            1,
            "{shown} in {out}"
        );
    }
    // The time column starts at one place in every row (every cell here is one
    // terminal column per character).
    let at: Vec<usize> = rows
        .iter()
        .map(|r| r[..r.find("2026-12-01T").unwrap()].chars().count())
        .collect();
    assert!(at.windows(2).all(|w| w[0] == w[1]), "{at:?}: {out}");

    let mut args = vec!["query", "events", "--audit-dir", "audit"];
    args.extend(window);
    let (code, out) = run(dir.path(), &args);
    assert_eq!(code, 0, "{out}");
    for shown in SHOWN {
        assert!(out.contains(&format!("| {shown} ")), "{shown} in {out}");
    }
}
