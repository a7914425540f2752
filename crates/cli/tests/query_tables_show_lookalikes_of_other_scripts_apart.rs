//! `query last-activity` showed `admin` (Latin), `аdmin` (U+0430 CYRILLIC SMALL LETTER A)
//! and `admіn` (U+0456 CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I) as three rows
//! that all read `admin`: each is in NFC, with no control, invisible or combining
//! character, so no rule of the escaping applied. A text that mixes scripts, or that
//! reads as ASCII in another script (the all-Cyrillic `орѕ`, `ops`), is now shown with
//! its characters beyond ASCII escaped (`\u{430}dmin`; Unicode UTS #39's single-script
//! test and confusable skeleton), and a name of one script that does not read as ASCII
//! (`Иван`, `田中`) is shown as it is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support::run;
use serde_json::json;

/// (the user sent, how a table shows it)
const USERS: [(&str, &str); 6] = [
    ("admin", "admin"),
    ("\u{430}dmin", "\\u{430}dmin"),
    ("adm\u{456}n", "adm\\u{456}n"),
    ("\u{43e}\u{440}\u{455}", "\\u{43e}\\u{440}\\u{455}"),
    (
        "\u{418}\u{432}\u{430}\u{43d}",
        "\u{418}\u{432}\u{430}\u{43d}",
    ),
    ("\u{7530}\u{4e2d}", "\u{7530}\u{4e2d}"),
];

#[test]
fn users_of_other_scripts_that_read_alike_are_shown_apart() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit");
    std::fs::create_dir(&audit).unwrap();
    let lines: String = USERS
        .iter()
        .enumerate()
        .map(|(i, (user, _))| {
            json!({
                "severity": "INFO", "logger": "audit.generic",
                "id": format!("00000000-0000-7000-8000-{:012}", i + 1),
                "timestamp": format!("2026-12-01T10:00:0{i}.000Z"), "topic": "generic",
                "node": "web-1", "seq": i + 1,
                "message": {"msgType": "login", "authUser": user}
            })
            .to_string()
                + "\n"
        })
        .collect();
    std::fs::write(audit.join("audit.log"), lines).unwrap();
    std::fs::write(audit.join(".audit.log.lock"), "").unwrap();

    let (code, out) = run(
        dir.path(),
        &[
            "query",
            "last-activity",
            "--audit-dir",
            "audit",
            "--since",
            "2026-11-30",
            "--until",
            "2026-12-02",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let cells: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("2026-12-01T"))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(cells.len(), USERS.len(), "{out}");
    for (_, shown) in USERS {
        assert_eq!(
            cells.iter().filter(|c| **c == shown).count(),
            1,
            "{shown} in {out}"
        );
    }
}
