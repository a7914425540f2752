//! `query last-activity`'s table of failed logins of names with no activity marks the
//! names tried that look alike by their own column, the names tried (as `query
//! failed-logins` does): it looked them up among the marks of the users above, where a
//! name with no activity never is, so `Iris` and `lris`, tried by two failed logins,
//! were shown alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use retention_support::run;
use serde_json::json;

#[test]
fn names_tried_that_look_alike_are_marked_in_the_table_of_names_with_no_activity() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit");
    std::fs::create_dir(&audit).unwrap();
    // (topic, user): one user with activity, two names tried with none.
    let events = [
        ("generic", "bob"),
        ("authfail", "Iris"),
        ("authfail", "lris"),
    ];
    let lines: String = events
        .iter()
        .enumerate()
        .map(|(i, (topic, user))| {
            json!({
                "severity": "INFO", "logger": format!("audit.{topic}"),
                "id": format!("00000000-0000-7000-8000-{:012}", i + 1),
                "timestamp": format!("2026-12-01T10:00:0{i}.000Z"), "topic": topic,
                "node": "n1", "seq": i + 1,
                "message": {"msgType": "login", "authUser": user, "clientIP": "10.0.0.1"}
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
    let (users, tried) = out
        .split_once("of names with no activity:")
        .unwrap_or_else(|| panic!("no table of names with no activity: {out}"));
    assert!(users.contains("bob"), "{out}");
    for shown in ["\\u{49}ris ", "\\u{6c}ris "] {
        assert_eq!(
            tried.lines().filter(|l| l.starts_with(shown)).count(),
            1,
            "{shown} in {out}"
        );
    }

    // `query failed-logins` marks them alike.
    let mut args = vec!["query", "failed-logins", "--audit-dir", "audit"];
    args.extend(window);
    let (code, out) = run(dir.path(), &args);
    assert_eq!(code, 0, "{out}");
    for shown in ["\\u{49}ris ", "\\u{6c}ris "] {
        assert!(
            out.lines().any(|l| l.starts_with(shown)),
            "{shown} in {out}"
        );
    }
}
